"""What a planned maintenance visit checks, by the kind of asset (DOMAIN.md "Rounds and safety": planned
maintenance for every asset kind from its interval). Pure data: the planner writes the list onto each job,
and completing a maintenance job on an asset needs every check of its kind ticked
(backend/domain/completion.py `job_checklist`).
"""

from __future__ import annotations

# asset kind -> the checks of one visit, in order: (code, Chinese as read on site, English)
CHECK_ITEMS_BY_ASSET_KIND: dict[str, tuple[tuple[str, str, str], ...]] = {
    "elevator": (
        ("elevator_machine", "检查曳引机、制动器", "Check the traction machine and brake"),
        ("elevator_doors", "检查门机与层门门锁", "Check the door operator and landing door locks"),
        ("elevator_emergency", "测试紧急呼叫与应急照明", "Test the emergency call and emergency lighting"),
        ("elevator_pit", "清洁轿顶与底坑", "Clean the car top and the pit"),
    ),
    "pump": (
        ("pump_bearings", "检查轴承温度与异响", "Check bearing temperature and noise"),
        ("pump_seal", "检查机械密封有无渗漏", "Check the mechanical seal for leaks"),
        ("pump_switchover", "测试主备泵切换", "Test the duty/standby switch-over"),
        ("pump_pressure", "记录出水压力", "Record the outlet pressure"),
    ),
    "water_tank": (
        ("tank_cover", "检查水箱盖板与防虫网", "Check the tank cover and insect screen"),
        ("tank_level", "检查液位计与浮球阀", "Check the level gauge and float valve"),
        ("tank_quality", "查看水质与清洗记录", "Check water quality and the cleaning record"),
    ),
    "pipework": (
        ("pipe_valves", "检查阀门启闭", "Check the valves open and close"),
        ("pipe_leaks", "检查管道有无渗漏锈蚀", "Check the pipes for leaks and rust"),
    ),
    "switchgear": (
        ("switch_readings", "测量三相电压电流", "Measure the three-phase voltage and current"),
        ("switch_terminals", "检查接线端子有无发热", "Check the terminals for heating"),
        ("switch_cabinet", "清洁柜体、检查防鼠设施", "Clean the cabinets and check rodent guards"),
    ),
    "generator": (
        ("gen_run", "空载试运行 15 分钟", "Run unloaded for 15 minutes"),
        ("gen_fluids", "检查燃油、机油与冷却液", "Check fuel, oil and coolant"),
        ("gen_battery", "检查蓄电池电压", "Check the battery voltage"),
    ),
    "lighting": (
        ("light_check", "检查公共照明与应急照明", "Check common and emergency lighting"),
        ("light_replace", "更换损坏灯具", "Replace broken fittings"),
    ),
    "fire_system": (
        ("fire_pump", "检查消防泵与管网压力", "Check the fire pumps and main pressure"),
        ("fire_alarm", "测试烟感与报警主机", "Test the smoke detectors and alarm panel"),
        ("fire_hydrants", "检查灭火器与消火栓", "Check the extinguishers and hydrants"),
    ),
    "access_control": (
        ("access_reader", "检查门禁读卡与开门", "Check the card readers and door release"),
        ("access_closer", "检查闭门器与门磁", "Check the door closers and door contacts"),
        ("access_intercom", "测试对讲", "Test the intercom"),
    ),
    "other": (
        ("general_look", "外观检查", "Visual inspection"),
        ("general_run", "运行测试", "Test run"),
    ),
}


def check_items_for(asset_kind: str) -> tuple[tuple[str, str, str], ...]:
    """The checks (code, zh, en) of a visit to an asset of this kind (the general ones for any other)."""
    return CHECK_ITEMS_BY_ASSET_KIND.get(asset_kind, CHECK_ITEMS_BY_ASSET_KIND["other"])


def checks_for(asset_kind: str) -> tuple[str, ...]:
    """The checks of a visit to an asset of this kind, in Chinese, as the job's description lists them."""
    return tuple(zh for _code, zh, _en in check_items_for(asset_kind))
