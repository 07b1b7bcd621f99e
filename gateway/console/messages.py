"""The console's words, zh-CN first, English available (a person chooses; the cookie `ft_lang` keeps it). One table:
a page names its words by key, and a key missing here fails the tests (tests/console/test_messages.py)."""

from __future__ import annotations

from gateway.console.words import account as account_words
from gateway.console.words import alerts as alerts_words
from gateway.console.words import audit as audit_words
from gateway.console.words import finance as finance_words
from gateway.console.words import projects as projects_words
from gateway.console.words import roster as roster_words
from gateway.console.words import trace as trace_words
from gateway.console.words import users as users_words

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

BASE: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "app.name": ("扶贫资金监管平台", "FundTrack"),
    "app.tagline": (
        "统筹整合涉农资金、项目库与扶贫小额信贷", "Integrated funds, the project library and poverty loans"
    ),
    "nav.home": ("首页", "Home"),
    "nav.alerts": ("预警", "Alerts"),
    "nav.trace": ("资金流向", "Fund flow"),
    "nav.audit": ("审计日志", "Audit trail"),
    "nav.projects": ("项目库", "Project library"),
    "nav.roster": ("农户名册导入", "Roster import"),
    "nav.announcements": ("公示公告", "Public announcements"),
    "nav.allocations": ("资金拨付", "Allocations"),
    "nav.reports": ("报表", "Reports"),
    "nav.account": ("我的账户", "My account"),
    "nav.users": ("用户管理", "Users"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "nav.main": ("主导航", "Main navigation"),
    "auth.sign_in": ("登录", "Sign in"),
    "auth.sign_out": ("退出", "Sign out"),
    "auth.login": ("登录名", "Login"),
    "auth.password": ("密码", "Password"),
    "auth.totp": ("动态验证码（如已启用）", "One-time code (if enabled)"),
    "auth.wrong": ("登录名或密码错误", "Wrong login or password"),
    "auth.locked": ("失败次数过多，账户已暂时锁定，请 15 分钟后再试", "Too many failures: locked for 15 minutes"),
    "auth.too_many": ("此地址登录尝试过于频繁，请稍后再试", "Too many sign-in attempts from this address; try later"),
    "auth.totp_wrong": ("动态验证码错误", "Wrong one-time code"),
    "auth.expired": ("表单已过期，请重试", "The form expired; please try again"),
    "auth.signed_in_as": ("当前用户", "Signed in as"),
    "lang.switch": ("English", "中文"),
    "home.title": ("工作台", "Desk"),
    "home.role": ("角色", "Role"),
    "home.region": ("管辖区域", "Jurisdiction"),
    "home.org": ("所属单位", "Organisation"),
    "role.admin": ("管理员", "Administrator"),
    "role.finance": ("财政部门", "Finance"),
    "role.project_manager": ("项目管理（扶贫办）", "Project office"),
    "role.lender": ("合作银行", "Partner bank"),
    "role.inspector": ("纪检监察", "Inspector"),
    "error.title": ("出错了", "Something went wrong"),
    "error.forbidden": ("无权访问此页面", "You may not open this page"),
    "error.not_found": ("没有这个页面", "No such page"),
    "error.unavailable": ("服务暂时不可用，请稍后重试", "A service is unavailable; try again shortly"),
    "error.rule": ("规则", "Rule"),
    "common.submit": ("提交", "Submit"),
    "common.save": ("保存", "Save"),
    "common.search": ("查询", "Search"),
    "common.filter": ("筛选", "Filter"),
    "common.next": ("下一页", "Next page"),
    "common.none": ("暂无数据", "Nothing here"),
    "common.yuan": ("元", "yuan"),
    "common.back": ("返回", "Back"),
    "common.download": ("下载", "Download"),
    "common.status": ("状态", "Status"),
    "common.count": ("数量", "Count"),
    "common.amount": ("金额（元）", "Amount (yuan)"),
    "common.region": ("区域", "Region"),
    "common.date": ("日期", "Date"),
    "common.actions": ("操作", "Actions"),
}


# Each desk keeps its words beside its pages (gateway/console/words/<desk>.py: WORDS) and is named here once.
SECTIONS: tuple[dict[str, tuple[str, str]], ...] = (
    BASE,
    account_words.WORDS,
    alerts_words.WORDS,
    audit_words.WORDS,
    finance_words.WORDS,
    projects_words.WORDS,
    roster_words.WORDS,
    trace_words.WORDS,
    users_words.WORDS,
)


def _merged(sections: tuple[dict[str, tuple[str, str]], ...]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for section in sections:
        twice = merged.keys() & section.keys()
        if twice:
            raise ValueError(f"console words declared twice: {sorted(twice)}")
        merged.update(section)
    return merged


MESSAGES = _merged(SECTIONS)


def translate(key: str, lang: str) -> str:
    zh, en = MESSAGES[key]
    return en if lang == "en" else zh
