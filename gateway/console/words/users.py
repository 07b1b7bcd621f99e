"""The users page's words (issue #19): an admin lists and makes the people of its jurisdiction (S1, S17)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "users.title": ("用户管理", "Users"),
    "users.list": ("本辖区的用户", "People of your jurisdiction"),
    "users.create": ("新建用户", "New user"),
    "users.login": ("登录名", "Login"),
    "users.name": ("姓名", "Name"),
    "users.password": ("初始密码（至少 12 个字符）", "First password (at least 12 characters)"),
    "users.role": ("角色", "Role"),
    "users.region": ("管辖区域代码", "Jurisdiction (region code)"),
    "users.organisation": ("所属单位编号（可不填）", "Organisation id (optional)"),
    "users.created_at": ("创建时间", "Created"),
    "users.totp": ("动态验证码", "One-time codes"),
    "users.on": ("已启用", "on"),
    "users.off": ("未启用", "off"),
    "users.revoked": ("已停用", "revoked"),
    "users.active": ("有效", "active"),
    "users.created": ("已创建用户：", "User created:"),
}
