"""What a planned maintenance visit checks, by the kind of asset (DOMAIN.md "Rounds and safety": planned
maintenance for every asset kind from its interval). Pure data: the planner writes the list onto each job.
"""

from __future__ import annotations

# asset kind -> the checks of one visit, in order (Chinese, as the technician reads them on site)
CHECKS_BY_ASSET_KIND: dict[str, tuple[str, ...]] = {
    "elevator": ("检查曳引机、制动器", "检查门机与层门门锁", "测试紧急呼叫与应急照明", "清洁轿顶与底坑"),
    "pump": ("检查轴承温度与异响", "检查机械密封有无渗漏", "测试主备泵切换", "记录出水压力"),
    "water_tank": ("检查水箱盖板与防虫网", "检查液位计与浮球阀", "查看水质与清洗记录"),
    "pipework": ("检查阀门启闭", "检查管道有无渗漏锈蚀"),
    "switchgear": ("测量三相电压电流", "检查接线端子有无发热", "清洁柜体、检查防鼠设施"),
    "generator": ("空载试运行 15 分钟", "检查燃油、机油与冷却液", "检查蓄电池电压"),
    "lighting": ("检查公共照明与应急照明", "更换损坏灯具"),
    "fire_system": ("检查消防泵与管网压力", "测试烟感与报警主机", "检查灭火器与消火栓"),
    "access_control": ("检查门禁读卡与开门", "检查闭门器与门磁", "测试对讲"),
    "other": ("外观检查", "运行测试"),
}


def checks_for(asset_kind: str) -> tuple[str, ...]:
    """The checks of a visit to an asset of this kind (the general ones for a kind without its own)."""
    return CHECKS_BY_ASSET_KIND.get(asset_kind, CHECKS_BY_ASSET_KIND["other"])
