"""`fundtrack seed-funds`: the central integrable fund sources (中央20项 as listed in issue 3), idempotent.

The codes C01…C17 are stable: a re-run updates names and flags, never creates a second row.
"""

from __future__ import annotations

import asyncio

from services.funds.repository import reference

CENTRAL_INTEGRABLE_SOURCES: tuple[tuple[str, str], ...] = (
    ("C01", "财政专项扶贫资金"),
    ("C02", "农田水利设施建设和水土保持补助资金"),
    ("C03", "现代农业生产发展资金"),
    ("C04", "农业技术推广与服务补助资金"),
    ("C05", "林业补助资金"),
    ("C06", "农业综合开发补助资金"),
    ("C07", "农村综合改革转移支付"),
    ("C08", "新增建设用地土地有偿使用费安排的高标准基本农田建设补助资金"),
    ("C09", "农村环境连片整治示范资金"),
    ("C10", "车辆购置税收入补助地方用于一般公路建设项目资金(支持农村公路部分)"),
    ("C11", "农村危房改造补助资金"),
    ("C12", "中央专项彩票公益金支持扶贫资金"),
    ("C13", "产粮大县奖励资金"),
    ("C14", "生猪(牛羊)调出大县奖励资金(省级统筹部分)"),
    ("C15", "农业资源及生态保护补助资金"),
    ("C16", "服务业发展专项资金(支持新农村现代流通服务网络工程部分)"),
    ("C17", '中央预算内投资用于"三农"建设部分'),
)

async def seed_funds_async(url: str) -> int:
    """Upsert the sources; return how many rows were inserted or changed."""
    return await reference.seed_central_sources(url, CENTRAL_INTEGRABLE_SOURCES)


def seed_funds(url: str) -> int:
    return asyncio.run(seed_funds_async(url))
