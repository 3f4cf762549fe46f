"""One catalogue of labels for every code the system sends, in Chinese and English.

Screens, the printed service record and the CSV export all read labels from here (the PWA fetches the
catalogue from `GET /api/v1/catalogue`), so a status, a category or a refusal reads the same everywhere.
Keys are `group.code`; error codes are under `error.`, and `error.field_required.<field>` names a field.

Glossary (DOMAIN.md "Vocabulary"): 维修人员 technician, 紧急 only for the emergency kind of work order,
危急 for an alarm's critical severity, P1-P4 for priority.
"""

from __future__ import annotations

from typing import get_args

from backend.domain.alarm_codes import ALARM_CODES
from backend.domain.evidence import NO_SIGN_REASONS, RELATIONS, STAGES
from backend.domain.intake import (
    CHANNELS,
    COMPLAINT_CATEGORIES,
    DESK_CHANNELS,
    MEDIATION_FIRST,
    REPAIR_CATEGORIES,
    categories_for,
)
from backend.domain.models import Model
from backend.domain.owner_messages import KINDS as OWNER_KINDS
from backend.domain.sla import ClockName, ClockState
from backend.domain.work_orders import ContactVia, EscalationReason
from backend.domain.workflow import PRIORITY_CODES, SYSTEM_EVENTS, Action, Kind, Priority, Status

LOCALES = ("zh-CN", "en")

# group -> code -> (中文, English)
_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "new": ("待派单", "Waiting for dispatch"),
        "assigned": ("已派单", "Assigned"),
        "accepted": ("已接单", "Accepted"),
        "en_route": ("在途", "On the way"),
        "on_site": ("已到场", "On site"),
        "paused": ("已暂停", "Paused"),
        "investigating": ("调查中", "Investigating"),
        "solved": ("已定方案", "Solution agreed"),
        "completed": ("已完成", "Completed"),
        "signed": ("已签字", "Signed"),
        "closed": ("已关闭", "Closed"),
        "cancelled": ("已取消", "Cancelled"),
    },
    "kind": {
        "repair": ("报修", "Repair"),
        "complaint": ("投诉", "Complaint"),
        "emergency": ("紧急", "Emergency"),
        "maintenance": ("保养", "Maintenance"),
        "inspection": ("巡检", "Inspection"),
    },
    "action": {
        "assign": ("派单", "Assign"),
        "accept": ("接单", "Accept"),
        "decline": ("拒单", "Decline"),
        "depart": ("出发", "Set off"),
        "arrive": ("到场", "Arrive"),
        "pause": ("暂停", "Pause"),
        "resume": ("继续", "Resume"),
        "complete": ("完工", "Complete"),
        "sign": ("签字", "Sign"),
        "investigate": ("调查记录", "Record investigation"),
        "reply": ("回复业主", "Reply to the owner"),
        "solve": ("处理方案", "Record the solution"),
        "inform": ("告知结果", "Tell the owner the result"),
        "escalate": ("升级", "Escalate"),
        "callback": ("回访", "Follow-up call"),
        "reopen": ("重新打开", "Reopen"),
        "cancel": ("取消", "Cancel"),
        "close": ("关闭", "Close"),
        "apology_call_done": ("经理致歉已完成", "Apology call made"),
        # events the system writes
        "created": ("创建", "Created"),
        "sla_breached": ("逾期", "Deadline missed"),
        "sla_escalated": ("逾期升级至经理", "Escalated to the manager"),
    },
    "clock": {
        "respond": ("响应", "Respond"),
        "investigate": ("当日调查", "Same-day investigation"),
        "arrive": ("到场", "Arrive"),
        "resolve": ("完成", "Resolve"),
        "callback": ("回访", "Follow-up call"),
    },
    "clockState": {
        "running": ("计时中", "Running"),
        "met": ("已达成", "Met"),
        "met_late": ("已达成（逾期）", "Met late"),
        "breached": ("已逾期", "Overdue"),
        "paused": ("已暂停", "Paused"),
        "waived": ("无需", "Not needed"),
    },
    "priority": {
        "P1": ("P1 立即", "P1 immediate"),
        "P2": ("P2 尽快", "P2 soon"),
        "P3": ("P3 一般", "P3 routine"),
        "P4": ("P4 预约", "P4 scheduled"),
    },
    "category": {
        "water": ("给排水", "Water"),
        "electrical": ("电气", "Electrical"),
        "elevator": ("电梯", "Elevator"),
        "doors_windows": ("门窗", "Doors and windows"),
        "structure": ("土建", "Structure"),
        "gas": ("燃气", "Gas"),
        "fire_safety": ("消防", "Fire safety"),
        "other": ("其他", "Other"),
        "repair_delay": ("维修拖延", "Repair delay"),
        "communication": ("沟通不畅", "Poor communication"),
        "attitude": ("服务态度", "Attitude"),
        "fee_dispute": ("收费争议", "Fee dispute"),
        "facilities": ("设施管理", "Facilities poorly managed"),
        "transparency": ("信息不透明", "Lack of transparency"),
        "neighbour_noise": ("邻里纠纷：噪音", "Neighbour dispute: noise"),
        "neighbour_leak": ("邻里纠纷：楼上漏水", "Neighbour dispute: leak between floors"),
        "neighbour_parking": ("邻里纠纷：停车", "Neighbour dispute: parking"),
    },
    "channel": {
        "phone": ("电话", "Phone"),
        "counter": ("前台", "Counter"),
        "app": ("业主自助", "Owner's app"),
        "sensor": ("传感器", "Sensor"),
        "patrol": ("巡查", "Patrol"),
        "schedule": ("保养计划", "Maintenance plan"),
    },
    # how the desk reached the owner (a complaint's reply, the result)
    "contact": {
        "phone": ("电话", "Phone"),
        "sms": ("短信", "SMS"),
        "visit": ("上门", "Visit"),
        "other": ("其他", "Other"),
    },
    "escalationReason": {
        "agitated": ("业主情绪激动", "Owner very agitated"),
        "beyond_authority": ("超出处理权限", "Beyond the handler's authority"),
        "legal_risk": ("涉及政策或法律风险", "Policy or legal risk"),
        "repeated": ("重复投诉", "Repeated complaint"),
        "media_or_group": ("媒体或群体投诉", "Media or group complaint"),
    },
    # suggestions and praise recorded at the desk or filed by an owner (建议/表扬)
    "feedbackKind": {
        "suggestion": ("建议", "Suggestion"),
        "praise": ("表扬", "Praise"),
    },
    "escalateTo": {
        "supervisor": ("主管", "Supervisor"),
        "manager": ("经理", "Manager"),
    },
    "callbackOutcome": {
        "unreached": ("未联系上", "Not reached"),
        "satisfied": ("满意", "Satisfied"),
        "neutral": ("一般，待主管决定", "Neutral: the supervisor decides"),
        "unsatisfied": ("不满意，已重新打开", "Unsatisfied: reopened"),
    },
    "satisfaction": {
        "1": ("非常不满意", "Very dissatisfied"),
        "2": ("不满意", "Dissatisfied"),
        "3": ("一般", "Neutral"),
        "4": ("满意", "Satisfied"),
        "5": ("非常满意", "Very satisfied"),
    },
    "stage": {
        "before": ("维修前", "Before"),
        "during": ("维修中", "During"),
        "after": ("维修后", "After"),
    },
    "relation": {
        "owner": ("业主", "Owner"),
        "tenant": ("租户", "Tenant"),
        "family": ("家属", "Family"),
        "agent": ("代理人", "Agent"),
    },
    "noSign": {
        "owner_absent": ("业主不在场", "Owner not at home"),
        "public_area": ("公共区域", "Public area"),
        "refused": ("业主拒签", "Owner refused"),
        "other": ("其他", "Other"),
    },
    "severity": {
        "critical": ("危急", "Critical"),
        "major": ("重要", "Major"),
        "minor": ("次要", "Minor"),
        "warning": ("提示", "Warning"),
    },
    "alarm": {code: (spec.label_zh, spec.label_en) for code, spec in ALARM_CODES.items()},
    "role": {
        "admin": ("管理员", "Administrator"),
        "manager": ("经理", "Manager"),
        "supervisor": ("主管", "Supervisor"),
        "agent": ("客服", "Customer service"),
        "technician": ("维修人员", "Technician"),
        "guard": ("保安", "Guard"),
    },
    # Why a home is offered when the address given names none (backend/domain/unit_address.py).
    "nearReason": {
        "other_building": ("同一房号，在另一栋", "Same room, another building"),
        "other_stairwell": ("同一房号，在另一单元", "Same room, another stairwell"),
        "typo": ("房号相差一位", "One digit off"),
    },
    # Why a technician is suggested for a job ({count} is filled in by the screen).
    "suggestion": {
        "skilled": ("对口专业", "Skilled in"),
        "not_skilled": ("非对口专业", "Not skilled in"),
        "nearby": ("正在本楼作业", "Working in this building now"),
        "open_jobs": ("在办 {count} 单", "Open jobs: {count}"),
    },
    # What owners are told (backend/domain/owner_messages.py), as staff see it in a case's history.
    "ownerMessage": {
        "case_received": ("已受理通知", "Case received"),
        "technician_assigned": ("派工通知", "Technician assigned"),
        "arrival_changed": ("上门时间变更", "Arrival changed"),
        "on_the_way": ("师傅出发通知", "On the way"),
        "completed": ("完工通知", "Work completed"),
        "rating_request": ("评价邀请", "Rating request"),
        "complaint_first_reply": ("投诉首次回复", "First reply to a complaint"),
        "complaint_result": ("投诉处理结果", "Complaint outcome"),
        "staff_reply": ("客服回复", "Reply from the office"),
        "building_outage": ("停水停电通知", "Water or power cut"),
        "building_restored": ("恢复通知", "Supply restored"),
        "sign_in_code": ("登录验证码", "Sign-in code"),
        "planned_outage": ("计划停水停电停梯通知", "Planned water, power or lift stop"),
        "confirm": ("业主确认完工", "Owner confirmed the work is done"),
        "message": ("业主留言", "Message from the owner"),
    },
    "ownerMessageStatus": {
        "pending": ("待发送", "Waiting"),
        "sending": ("发送中", "Sending"),
        "sent": ("已发送", "Sent"),
        "failed": ("发送失败", "Failed"),
        "suppressed": ("未发送（已关闭或业主退订）", "Not sent (switched off or opted out)"),
        "received": ("业主发来", "From the owner"),
    },
    "outageKind": {
        "water": ("计划停水", "Planned water cut"),
        "power": ("计划停电", "Planned power cut"),
        "lift": ("计划停梯", "Planned lift stop"),
    },
    "ownerMessageChannel": {
        "sms": ("短信", "SMS"),
        "email": ("邮件", "Email"),
        "page": ("业主页面", "Owner's page"),
    },
    # Refusals: the server's `code`, shown in the user's language next to the control that caused it.
    "error": {
        "invalid_transition": (
            "工单状态已变化，此操作不可用",
            "The job has moved on; this is no longer possible",
        ),
        "not_assignee": ("该工单已改派他人", "This job is now assigned to someone else"),
        "role_forbidden": ("您的角色不能执行此操作", "Your role may not do this"),
        "own_work": (
            "须由处理人以外的同事进行（回访、隐患复查）",
            "Someone other than who did the work does this (follow-up call, hazard re-check)",
        ),
        "callback_not_due": ("该工单当前无需回访", "No follow-up call is due for this job"),
        "apology_not_due": ("该投诉没有待办的致歉电话", "No apology call is owed on this complaint"),
        "manager_only": ("重大投诉须由经理处理", "On a major complaint only a manager may do this"),
        "feedback_answered": ("该意见已答复", "This feedback has already been answered"),
        "praised_not_staff": ("被表扬人须为本小区员工", "The person praised must be staff of this site"),
        "mediation_required": (
            "邻里纠纷须先调解：请记录双方当事人和调解结果",
            "A neighbour dispute is mediated first: record both parties and what they agreed",
        ),
        "reason_required": ("请填写原因", "Give a reason"),
        "field_required": ("请填写此项", "This is required"),
        "field_required.workDone": ("请填写完成了哪些工作", "Say what was done"),
        "field_required.summary": ("请填写告知业主的内容", "Say what the owner was told"),
        "field_required.via": ("请选择联系方式", "Choose how the owner was reached"),
        "after_photo_required": (
            "请至少拍一张本次维修后的照片",
            "Take at least one 'after' photo of this visit",
        ),
        "checklist_incomplete": ("还有必做的检查项未勾选", "Some required checks are not ticked"),
        "invalid_priority": ("优先级应为 P1–P4", "Priority must be P1-P4"),
        "validation_failed": ("输入有误", "A value is not acceptable"),
        "unknown_field": ("请求包含未知字段", "The request has a field the server does not know"),
        "work_order_not_found": ("没有找到该工单", "No such job"),
        "not_found": ("没有找到", "Not found"),
        "forbidden": ("无权执行此操作", "Not allowed"),
        "photo_not_allowed": ("当前状态不能再添加照片", "Photos cannot be added in this state"),
        "already_signed": ("本次上门已签字", "This visit is already signed"),
        "duplicate": ("重复提交", "Already recorded"),
        "bad_credentials": ("用户名或密码错误", "Wrong username or password"),
        "too_many_requests": ("尝试次数过多，请稍后再试", "Too many attempts; try again later"),
        "owner_wrong_code": ("验证码错误或已过期", "Wrong or expired code"),
        "owner_signed_out": ("请先用手机号登录", "Sign in with your mobile number first"),
        "owner_case_not_found": ("没有这张工单", "No such case"),
        "owner_unit_not_found": ("链接无效", "Link not valid"),
        "owner_bad_phone": ("手机号格式不对", "Not a mobile number"),
        "owner_too_many_photos": ("每张工单最多上传 4 张照片", "At most 4 photos per case"),
        "owner_confirm_not_done": ("工作尚未完成，完工后才能确认", "The work is not finished yet"),
        "owner_too_many_messages": ("留言太频繁，请一小时后再试", "Too many messages; try again in an hour"),
        "owner_reply_no_home": (
            "此工单没有对应房屋，无人可回复",
            "This case has no home: nobody to reply to",
        ),
        "owner_reply_no_recipient": (
            "该房屋没有登记手机或邮箱",
            "Nobody of this home has a phone or email on file",
        ),
        "owner_message_not_found": ("没有找到该消息", "No such message"),
        "owner_message_code": (
            "验证码不重发，请业主重新获取",
            "A sign-in code is not sent again: the owner asks for a new one",
        ),
        "owner_message_not_failed": ("该消息已重新发送", "This message is already being sent again"),
        "building_not_found": ("没有找到该楼栋", "No such building"),
        "planned_outage_not_found": ("没有找到该计划停水停电", "No such planned cut"),
        "planned_outage_restored": ("已经通知恢复", "Already restored"),
        "outage_not_found": ("该停水停电已结束", "This outage is over"),
        "alarm_already_acknowledged": ("该报警已被确认", "This alarm is already acknowledged"),
        "alarm_resolved": ("该报警已处理", "This alarm is already resolved"),
        "alarm_resolve_reason_required": (
            "应急工单尚未完成，请填写处理原因",
            "Its emergency job is still open: give a reason",
        ),
        "file_too_large": ("文件太大", "The file is too large"),
        "not_an_image": ("不是图片文件", "Not an image"),
        "idempotency_key_reused": ("重复的请求编号", "This request id was used for something else"),
        "unit_required": (
            "入户维修须先找到并选定房屋",
            "A repair in a home needs its unit: find and choose it first",
        ),
        "address_unreadable": (
            "没能读懂这个地址，请按“3栋1单元1201”这样输入",
            "That address could not be read: type it like 3-1-1201",
        ),
        "phone_too_short": (
            "请输入完整号码，或至少后 7 位",
            "Give the number, or at least its last 7 digits",
        ),
        "assignee_complained_about": (
            "这件投诉针对的就是此人，请派给其他同事",
            "The complaint is about this person: give it to someone else",
        ),
        # rounds and the hazard ledger (docs/SAFETY.md)
        "round_not_found": ("没有找到该巡逻任务", "No such round"),
        "route_not_found": ("没有找到该巡逻路线", "No such route"),
        "round_taken": ("该巡逻任务已由他人执行", "Someone else is walking this round"),
        "point_not_on_route": ("这个二维码不是本路线的巡逻点", "This code is not a point of this route"),
        "point_already_scanned": ("这个点本轮已经打过了", "This point is already scanned on this round"),
        "hazard_not_found": ("没有找到该隐患", "No such hazard"),
        "hazard_invalid_move": (
            "隐患状态已变化，此操作不可用",
            "The hazard has moved on; this is no longer possible",
        ),
        "rectification_not_done": ("整改工单尚未完成，不能复查", "The rectification job is not done yet"),
        "name_taken": ("这个名称已被使用", "That name is already used"),
        "check_point_not_found": ("没有找到该巡逻点", "No such check point"),
        "schedule_not_found": ("没有找到该巡逻计划", "No such schedule"),
        # the quarterly safety check
        "safety_check_not_found": ("没有找到该季度检查", "No such safety check"),
        "safety_check_point_not_found": ("本次检查没有这一项", "No such point on this check"),
        "safety_check_point_answered": ("这一项已经检查过了", "This point of the check is answered already"),
        "finding_needs_note": ("请描述问题或拍照", "Say what is wrong or take a photo"),
        "finding_needs_risk": ("请选择风险等级", "Choose the risk level"),
    },
}


def _check_complete() -> None:
    """Every code the domain defines has a label (a missing one would reach a screen as a raw code)."""
    expected = {
        "status": {s.value for s in Status},
        "kind": {k.value for k in Kind},
        "action": {a.value for a in Action} | set(SYSTEM_EVENTS),
        "clock": {c.value for c in ClockName},
        "clockState": {c.value for c in ClockState},
        "priority": {p.code for p in Priority},
        "category": set(REPAIR_CATEGORIES) | set(COMPLAINT_CATEGORIES),
        "channel": set(CHANNELS),
        "ownerMessage": set(OWNER_KINDS) | {"confirm", "message"},
    }
    for group, codes in expected.items():
        missing = codes - set(_LABELS[group])
        if missing:
            raise RuntimeError(f"catalogue: no label for {group} {sorted(missing)}")


_check_complete()


def labels(locale: str) -> dict[str, str]:
    """Every label in one language, keyed `group.code`."""
    index = 0 if locale == "zh-CN" else 1
    return {
        f"{group}.{code}": pair[index] for group, codes in _LABELS.items() for code, pair in codes.items()
    }


def label(group: str, code: str, locale: str) -> str:
    """One label, or the code itself when the catalogue has none (never fails a print)."""
    pair = _LABELS.get(group, {}).get(code)
    if pair is None:
        return code
    return pair[0] if locale == "zh-CN" else pair[1]


class Choices(Model, frozen=True):
    """The values a form may offer, each a code with a label above; the server accepts exactly these."""

    categories: dict[str, tuple[str, ...]]
    desk_channels: tuple[str, ...]
    priorities: tuple[str, ...]
    contact_via: tuple[str, ...]
    escalation_reasons: tuple[str, ...]
    mediation_first: tuple[str, ...]
    no_sign_reasons: tuple[str, ...]
    relations: tuple[str, ...]
    stages: tuple[str, ...]


class Catalogue(Model, frozen=True):
    """Labels by locale (`group.code` -> words) and the choices forms offer."""

    labels: dict[str, dict[str, str]]
    choices: Choices


CATALOGUE = Catalogue(
    labels={locale: labels(locale) for locale in LOCALES},
    choices=Choices(
        categories={kind.value: categories_for(kind) for kind in Kind},
        desk_channels=DESK_CHANNELS,
        priorities=PRIORITY_CODES,
        contact_via=get_args(ContactVia),
        escalation_reasons=get_args(EscalationReason),
        mediation_first=MEDIATION_FIRST,
        no_sign_reasons=NO_SIGN_REASONS,
        relations=RELATIONS,
        stages=STAGES,
    ),
)
