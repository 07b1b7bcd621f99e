"""The inspector's desk: alerts and cases (issue #19 point 2). `alerts.say.<TYPE>` is the sentence an alert's facts
make (gateway/console/alerts/sentences.py fills it: amounts in 元, days counted in China)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "alerts.title": ("预警", "Alerts"),
    "alerts.filters": ("筛选条件", "Filters"),
    "alerts.type": ("预警类型", "Alert type"),
    "alerts.severity": ("严重程度", "Severity"),
    "alerts.status": ("处理状态", "Status"),
    "alerts.region": ("区域代码", "Region code"),
    "alerts.any": ("全部", "Any"),
    "alerts.counts": ("统计", "Counts"),
    "alerts.by_type": ("按类型", "By type"),
    "alerts.by_status": ("按状态", "By status"),
    "alerts.total": ("合计", "Total"),
    "alerts.raised": ("发现时间", "Raised"),
    "alerts.subject": ("对象", "Subject"),
    "alerts.rule": ("依据规则", "Rule"),
    "alerts.list": ("预警列表", "The alerts"),
    "alerts.none": ("没有符合条件的预警", "No alert matches"),
    "alerts.open_item": ("查看", "Open"),
    "alerts.cases_link": ("问题线索", "Cases"),
    "alerts.detail": ("预警详情", "Alert"),
    "alerts.facts": ("事实", "Facts"),
    "alerts.facts_table": ("预警数据", "The alert's data"),
    "alerts.fact": ("项目", "Item"),
    "alerts.value": ("内容", "Value"),
    "alerts.record": ("对象记录", "The subject's record"),
    "alerts.record_none": ("无可显示的记录", "No record to show"),
    "alerts.record_refused": ("您无权查看该对象的记录", "You may not read the subject's record"),
    "alerts.links": ("相关页面", "Related pages"),
    "alerts.link_project": ("项目", "Project"),
    "alerts.link_trace": ("资金流向", "Fund flow"),
    "alerts.link_case": ("问题线索", "Case"),
    "alerts.history": ("处理记录", "History"),
    "alerts.history_raised": ("发现", "Raised"),
    "alerts.action": ("动作", "Action"),
    "alerts.by": ("处理人", "By"),
    "alerts.note": ("说明", "Note"),
    "alerts.when": ("时间", "When"),
    "alerts.act": ("处理", "Act on it"),
    "alerts.acknowledge": ("确认收到", "Acknowledge"),
    "alerts.resolve": ("处置完毕", "Resolve"),
    "alerts.resolve_confirm": ("确定标记为已处置？", "Mark this alert resolved?"),
    "alerts.open_case": ("立案（问题线索）", "Open a case"),
    "alerts.case_title": ("线索标题", "Case title"),
    "alerts.case_money": ("涉及金额（元，可不填）", "Money involved (yuan, optional)"),
    "alerts.in_case": ("该预警已在问题线索中", "This alert is in a case already"),
    "alerts.done": ("已完成", "Done"),
    "alerts.status.open": ("待处理", "Open"),
    "alerts.status.acknowledged": ("已确认", "Acknowledged"),
    "alerts.status.resolved": ("已处置", "Resolved"),
    "alerts.severity.low": ("低", "Low"),
    "alerts.severity.medium": ("中", "Medium"),
    "alerts.severity.high": ("高", "High"),
    "alerts.severity.critical": ("严重", "Critical"),
    "alerts.action.acknowledged": ("确认收到", "Acknowledged"),
    "alerts.action.resolved": ("处置完毕", "Resolved"),
    "alerts.money_invalid": ("金额须以元为单位，最多两位小数", "An amount in yuan, at most 2 decimals"),
    # the types, by name
    "alerts.kind.IDLE_FUNDS": ("资金闲置", "Idle funds"),
    "alerts.kind.LATE_PASS_DOWN": ("资金下达滞后", "Late pass-down"),
    "alerts.kind.GROWTH_BELOW_AVERAGE": ("贫困县投入增幅低于平均", "Growth below average"),
    "alerts.kind.DUPLICATE_PAYMENT": ("疑似重复支付", "Duplicate payment"),
    "alerts.kind.INELIGIBLE_PAYEE": ("不符合条件的收款农户", "Ineligible payee"),
    "alerts.kind.HOUSEHOLD_CONCENTRATION": ("资金集中于个别农户", "Household concentration"),
    "alerts.kind.VILLAGE_CONCENTRATION": ("资金集中于个别村", "Village concentration"),
    "alerts.kind.INPUT_OBLIGATION_FAILED": ("投入责任未落实", "Input obligation failed"),
    "alerts.kind.ID_ENUMERATION_SUSPECTED": ("疑似批量试探身份信息", "ID enumeration suspected"),
    "alerts.kind.LOAN_OVERDUE": ("贷款逾期", "Loan overdue"),
    "alerts.kind.LOAN_ENTERPRISE_USE": ("户贷企用", "Loan used by an enterprise"),
    "alerts.kind.LOAN_NON_PRODUCTIVE_USE": ("贷款用于非生产用途", "Loan for non-productive use"),
    "alerts.kind.LOAN_FUNDS_CONCENTRATION": ("贷款资金流向集中", "Loan funds concentration"),
    "alerts.kind.INELIGIBLE_BORROWER": ("不符合条件的借款人", "Ineligible borrower"),
    "alerts.kind.RISK_FUND_DEPLETED": ("风险补偿金消耗过多", "Risk fund depleted"),
    "alerts.kind.UNRECORDED_RENEWAL": ("疑似借新还旧", "Unrecorded renewal"),
    "alerts.kind.NO_RETURN_TO_HOUSEHOLD": ("合作社未向农户分红", "No return to the household"),
    "alerts.kind.LOAN_ABOVE_CREDIT_LINE": ("贷款超出授信额度", "Loan above credit line"),
    "alerts.kind.PUBLIC_COMPLAINT": ("群众举报", "Public complaint"),
    "alerts.kind.CASE_OVERDUE": ("问题线索整改逾期", "Case overdue"),
    "alerts.kind.REPEATED_MISUSE": ("同类问题屡查屡犯", "Repeated misuse"),
    "alerts.kind.DUPLICATE_PROJECT": ("疑似重复项目", "Duplicate project"),
    "alerts.kind.ANNOUNCEMENT_BACKDATED": ("公示补录", "Announcement backdated"),
    "alerts.kind.CONTRACT_SPLITTING": ("疑似拆分合同", "Contract splitting"),
    "alerts.kind.TARGETS_UNMET": ("绩效目标未完成", "Targets unmet"),
    "alerts.kind.CADRE_EXCEPTION": ("村干部家庭例外", "Cadre exception"),
    # the sentences: {names} are the alert's facts as words (sentences.py)
    "alerts.say.IDLE_FUNDS": (
        "区域 {region} 的 {account} 账户中，{fund_source} 资金 {amount_fen} 元自 {since} 起未被使用，"
        "至今已 {since_days} 天，超过 {threshold_days} 天的期限（账户余额 {balance_fen} 元）。",
        "{amount_fen} yuan of {fund_source} in the {account} account of region {region} has lain unused since "
        "{since}: {since_days} days, over the {threshold_days}-day limit (balance {balance_fen} yuan).",
    ),
    "alerts.say.LATE_PASS_DOWN": (
        "省 {region} 收到的中央资金（{fund_source}，最早文号 {central_doc_no}）中有 {amount_fen} 元自 {since} 起"
        "未下达到县，至今已 {since_days} 天，超过 {threshold_days} 天的时限。",
        "{amount_fen} yuan of central money ({fund_source}, oldest document {central_doc_no}) has been held by "
        "province {region} since {since} without reaching a county: {since_days} days, over the "
        "{threshold_days}-day limit.",
    ),
    "alerts.say.GROWTH_BELOW_AVERAGE": (
        "{fiscal_year} 年度 {fund_source}：省 {region} 对贫困县的投入由 {poor_prev_fen} 元增至 {poor_curr_fen} 元，"
        "增幅 {poor_growth} 低于平均增幅 {average_growth}。",
        "{fiscal_year}, {fund_source}: what province {region} gives its poor counties went from {poor_prev_fen} to "
        "{poor_curr_fen} yuan, a growth of {poor_growth}, below the average {average_growth}.",
    ),
    "alerts.say.DUPLICATE_PAYMENT": (
        "项目 {project_id} 于 {paid_on} 向收款人 {payee_id} 支付 {amount_fen} 元（凭证 {voucher_no}），"
        "与 {first_paid_on} 的同额支付（凭证 {first_voucher_no}）仅相隔 {days_apart} 天。",
        "Project {project_id} paid {amount_fen} yuan to payee {payee_id} on {paid_on} (voucher {voucher_no}), "
        "{days_apart} days after the same amount on {first_paid_on} (voucher {first_voucher_no}).",
    ),
    "alerts.say.INELIGIBLE_PAYEE": (
        "项目 {project_id} 于 {paid_on} 向农户 {household_id} 支付 {amount_fen} 元，该户当日不符合领取条件"
        "（{reason}，名册状态 {status}）。",
        "Project {project_id} paid {amount_fen} yuan to household {household_id} on {paid_on}, which was not "
        "eligible that day ({reason}, roster status {status}).",
    ),
    "alerts.say.LOAN_OVERDUE": (
        "贷款 {loan_id}（农户 {household_id}）于 {maturity_on} 到期，至今逾期 {maturity_on_days} 天"
        "（{bucket} 天档），尚欠本金 {outstanding_fen} 元。",
        "Loan {loan_id} (household {household_id}) fell due on {maturity_on}: {maturity_on_days} days overdue "
        "(the {bucket} days bucket), {outstanding_fen} yuan of principal outstanding.",
    ),
    "alerts.say.LOAN_ENTERPRISE_USE": (
        "贷款 {loan_id}（农户 {household_id}，{mode} 模式）的用款报告显示资金流向企业或模式外的合作社（户贷企用）。",
        "Loan {loan_id} (household {household_id}, {mode} mode) was reported spent at an enterprise or at a "
        "cooperative outside its mode.",
    ),
    "alerts.say.LOAN_NON_PRODUCTIVE_USE": (
        "贷款 {loan_id}（农户 {household_id}）的用款报告显示资金用于非生产用途。",
        "Loan {loan_id} (household {household_id}) was reported spent on a non-productive purpose.",
    ),
    "alerts.say.INELIGIBLE_BORROWER": (
        "农户 {household_id} 不符合贷款条件（名册状态 {status}），仍欠贷款本金 {outstanding_fen} 元。",
        "Household {household_id} is not eligible to borrow (roster status {status}) and still owes "
        "{outstanding_fen} yuan of principal.",
    ),
    "alerts.say.PUBLIC_COMPLAINT": (
        "群众举报 {complaint_id}（涉及：{subject_ref}）：{text}",
        "Complaint {complaint_id} from the public (about: {subject_ref}): {text}",
    ),
    "alerts.say.CASE_OVERDUE": (
        "问题线索“{title}”的整改期限为 {deadline}，已逾期 {deadline_days} 天，当前状态：{state}。",
        "Case “{title}” was due on {deadline}: {deadline_days} days late, now {state}.",
    ),
    "alerts.say.ANNOUNCEMENT_BACKDATED": (
        "项目公示开始于 {start_on}，却到 {recorded_on} 才录入，晚了 {days_late} 天（允许 {grace_days} 天）；"
        "张贴人：{posted_by}。",
        "The project's announcement started on {start_on} but was recorded on {recorded_on}, {days_late} days "
        "late ({grace_days} allowed); posted by {posted_by}.",
    ),
    "alerts.say.CADRE_EXCEPTION": (
        "农户 {household_id}（村干部家庭）经 {approved_by} 于 {approved_on} 批准例外享受政策（文号 {doc_no}）。",
        "Household {household_id} (a village cadre's) was excepted by {approved_by} on {approved_on} "
        "(document {doc_no}).",
    ),
    # cases
    "cases.title": ("问题线索", "Cases"),
    "cases.none": ("暂无问题线索", "No case"),
    "cases.case": ("问题线索", "Case"),
    "cases.state": ("状态", "State"),
    "cases.opened": ("立案时间", "Opened"),
    "cases.deadline": ("整改期限", "Deadline"),
    "cases.money": ("涉及金额（元）", "Money involved (yuan)"),
    "cases.responsible": ("责任单位", "Responsible organisation"),
    "cases.alerts": ("所涉预警", "Its alerts"),
    "cases.moves": ("办理过程", "Its moves"),
    "cases.seq": ("序号", "No."),
    "cases.complaint": ("举报编号", "Complaint"),
}
