"""The closed vocabularies of the domain, with the Chinese words organisers use as values.

Values are what the spreadsheets and the store hold; member names are English so code reads well.
Labels and relationship types of the graph come only from here and from ``store/schema.py``, never
from user input.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class DisabilityCategory(IntEnum):
    """残疾类别: the digit is the 19th character of the certificate number."""

    VISUAL = 1  # 视力
    HEARING = 2  # 听力
    SPEECH = 3  # 言语
    PHYSICAL = 4  # 肢体
    INTELLECTUAL = 5  # 智力
    MENTAL = 6  # 精神
    MULTIPLE = 7  # 多重

    @property
    def zh(self) -> str:
        return "视力 听力 言语 肢体 智力 精神 多重".split()[self - 1]

    @classmethod
    def parse(cls, value: object) -> "DisabilityCategory":
        """Accepts 1–7, "视力" or "视力残疾"."""
        text = str(value).strip().removesuffix("残疾")
        if text.isdigit():
            return cls(int(text))
        names = "视力 听力 言语 肢体 智力 精神 多重".split()
        if text in names:
            return cls(names.index(text) + 1)
        raise ValueError(f"未知残疾类别 / unknown disability category: {value!r}")


class DisabilityGrade(IntEnum):
    """残疾等级: 一级 is the most severe; 一级 and 二级 are 重度."""

    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4

    @property
    def zh(self) -> str:
        return "一级 二级 三级 四级".split()[self - 1]

    @property
    def severe(self) -> bool:
        return self <= 2

    @classmethod
    def parse(cls, value: object) -> "DisabilityGrade":
        """Accepts 1–4, "一级" or "1级"."""
        text = str(value).strip()
        names = "一级 二级 三级 四级".split()
        if text in names:
            return cls(names.index(text) + 1)
        text = text.removesuffix("级")
        if text.isdigit():
            return cls(int(text))
        raise ValueError(f"未知残疾等级 / unknown disability grade: {value!r}")


class MonitoringCategory(StrEnum):
    """三类监测对象."""

    UNSTABLE = "脱贫不稳定户"
    MARGINAL = "边缘易致贫户"
    SUDDEN_HARDSHIP = "突发严重困难户"


class RiskFactor(StrEnum):
    ILLNESS = "因病"
    DISABILITY = "因残"
    DISASTER = "因灾"
    ACCIDENT = "因意外"
    SCHOOLING = "因学"
    NO_LABOUR = "缺劳力"
    NO_SKILLS = "缺技术"
    OTHER = "其他"


class Relation(StrEnum):
    """与户主关系."""

    SELF = "本人"
    SPOUSE = "配偶"
    CHILD = "子女"
    PARENT = "父母"
    SIBLING = "兄弟姐妹"
    GRANDCHILD = "孙子女"
    OTHER = "其他"


class LabourAbility(StrEnum):
    FULL = "有"
    PARTIAL = "部分"
    NONE = "无"


class Need(StrEnum):
    """需求 as the registry records it."""

    REHABILITATION = "康复"
    ASSISTIVE_DEVICE = "辅具"
    ACCESSIBILITY = "无障碍改造"
    CARE = "托养"
    EMPLOYMENT = "就业"
    TRAINING = "培训"
    EDUCATION = "教育"


class UnitLevel(StrEnum):
    """单位层级 of a cadre's work unit."""

    PROVINCE = "省"
    CITY = "市"
    COUNTY = "县"
    TOWNSHIP = "乡"
    VILLAGE = "村"


class CadreRole(StrEnum):
    """身份."""

    FIRST_SECRETARY = "驻村第一书记"
    WORK_TEAM = "驻村工作队员"
    LIAISON = "村残协专职委员"
    PARTY_CADRE = "党员干部"
    OTHER = "其他"


class OrgType(StrEnum):
    SOCIAL_GROUP = "社会团体"
    PRIVATE_NON_ENTERPRISE = "民办非企业单位"
    FOUNDATION = "基金会"
    ENTERPRISE = "企业"
    VOLUNTEER = "志愿服务组织"
    REHABILITATION = "康复机构"
    ASSISTIVE_DEVICES = "辅具适配机构"
    CARE = "托养机构"
    MEDICAL = "医疗机构"
    SCHOOL = "学校"
    OTHER = "其他"


class ServiceMode(StrEnum):
    """服务方式 of a social organisation."""

    DONATION = "捐款捐物"
    VOLUNTEERING = "志愿服务"
    AUX_PAIRING = "辅助结对"


class PairingType(StrEnum):
    ONE_TO_ONE = "一对一"
    AUXILIARY = "辅助"


class PairingSource(StrEnum):
    """Where a pairing came from: kept on the edge so history can be traced."""

    IMPORT = "import"
    MANUAL = "manual"
    MATCHER = "matcher"
    TRANSFER = "transfer"
    REQUEST = "request"  # an organisation's request, approved by an organiser


class AuxRequestStatus(StrEnum):
    """Where an organisation's request for an auxiliary pairing (辅助结对申请) stands."""

    PENDING = "待审批"
    APPROVED = "已批准"
    DECLINED = "已拒绝"
    WITHDRAWN = "已撤回"


class JoinStatus(StrEnum):
    """Where an organisation's request to join (入驻申请) stands."""

    PENDING = "待审批"
    APPROVED = "已批准"
    DECLINED = "已拒绝"


class ClaimStatus(StrEnum):
    """Where a claim on a record outside an organiser's jurisdiction stands (跨辖区认领)."""

    PENDING = "待处理"
    ACCEPTED = "已采纳"
    DECLINED = "已驳回"


class ExclusionReason(StrEnum):
    """Why a cadre may not be paired with a household (回避原因)."""

    RELATIVE = "亲属"  # the cadre belongs to the household's family
    ORGANISER = "组织者排除"  # the organiser excluded the pair (conflict of interest, past complaint…)


class LedgerKind(StrEnum):
    """类型 of a 帮扶台账 entry."""

    CONTACT = "联系交流"
    VISIT = "入户走访"
    POLICY = "落实政策"
    SOLVE_PROBLEM = "解决困难"
    REPORT_PROBLEM = "反映困难"
    PRACTICAL_HELP = "帮办实事"
    AID = "资助"
    DONATION = "捐款捐物"
    VOLUNTEER = "志愿服务"


class Department(StrEnum):
    """来源部门 of a comparison list."""

    CIVIL_AFFAIRS = "民政"
    MEDICAL_INSURANCE = "医保"
    HUMAN_RESOURCES = "人社"
    RURAL_REVITALISATION = "乡村振兴"
    EDUCATION = "教育"
    HEALTH = "卫健"
    HOUSING = "住建"
    OTHER = "其他"


class ServiceCategory(StrEnum):
    """类别 of a service in the catalogue: the registry's 需求 words, and 其他."""

    REHABILITATION = "康复"
    ASSISTIVE_DEVICE = "辅具"
    ACCESSIBILITY = "无障碍改造"
    CARE = "托养"
    EMPLOYMENT = "就业"
    TRAINING = "培训"
    EDUCATION = "教育"
    OTHER = "其他"


class ServiceUnit(StrEnum):
    """单位 in which a service is counted."""

    SESSION = "次"
    ITEM = "件"
    HOUSEHOLD = "户"
    PERSON = "人"


class ServiceDept(StrEnum):
    """牵头部门 of a service, and 提供部门 of a delivery made by a department."""

    DPF = "残联"
    CIVIL_AFFAIRS = "民政"
    HEALTH = "卫健"
    HUMAN_RESOURCES = "人社"
    EDUCATION = "教育"
    HOUSING = "住建"
    OTHER = "其他"


class NeedStatus(StrEnum):
    """需求状态 an assessment gives."""

    CONFIRMED = "已确认"
    MET = "已满足"
    NOT_NEEDED = "不再需要"


class NeedSource(StrEnum):
    """来源 of an assessed need; 登记 marks the registry's 需求 column (never a file's value)."""

    SURVEY = "动态更新调查"
    VISIT = "入户走访"
    PROFESSIONAL = "专业评估"
    DEPARTMENT_LIST = "部门名单"
    OTHER = "其他"
    REGISTRY = "登记"


class OfferMode(StrEnum):
    """服务方式 of an offer."""

    CENTRE = "机构"
    HOME = "上门"
    COMMUNITY = "社区"
    ONLINE = "线上"


class ReferralStatus(StrEnum):
    """The states of a referral (转介); the last three are closed."""

    PENDING = "待接收"
    ACCEPTED = "已接收"
    REJECTED = "已拒绝"
    DONE = "已完成"
    WITHDRAWN = "已撤回"

    @property
    def open(self) -> bool:
        return self in (ReferralStatus.PENDING, ReferralStatus.ACCEPTED)


class ReferralReason(StrEnum):
    """Why a referral did not succeed (rejected or withdrawn)."""

    PERSON_REFUSED = "本人拒绝"
    PROVIDER_UNABLE = "机构无能力"
    NO_LONGER_NEEDED = "不再需要"
    PERSON_UNREACHABLE = "联系不上本人"
    PROVIDER_UNREACHABLE = "联系不上机构"
    OTHER = "其他"


class DeliveryOutcome(StrEnum):
    """结果 of a delivery: 完成 and 进行中 count toward the service rates, 未完成 does not."""

    DONE = "完成"
    ONGOING = "进行中"
    NOT_DONE = "未完成"

    @property
    def counts(self) -> bool:
        return self is not DeliveryOutcome.NOT_DONE
