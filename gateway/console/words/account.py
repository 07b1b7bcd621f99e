"""My account's words (issue #19): the password (S22) and the second factor (S21)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "account.title": ("我的账户", "My account"),
    "account.login": ("登录名", "Login"),
    "account.name": ("姓名", "Name"),
    "account.password": ("修改密码", "Change password"),
    "account.current_password": ("当前密码", "Current password"),
    "account.new_password": ("新密码（至少 12 个字符）", "New password (at least 12 characters)"),
    "account.new_password_again": ("再次输入新密码", "New password again"),
    "account.mismatch": ("两次输入的新密码不一致", "The two new passwords differ"),
    "account.password_hint": (
        "修改后，您在其他设备或浏览器上的登录将全部退出。",
        "Once changed, you are signed out everywhere else.",
    ),
    "account.change": ("修改密码", "Change password"),
    "account.totp": ("动态验证码（双重验证）", "One-time codes (second factor)"),
    "account.totp_off": ("未启用。启用后，登录时除密码外还需输入验证器应用显示的 6 位数字。",
                         "Off. Once on, signing in asks for the six digits your authenticator app shows, "
                         "besides the password."),
    "account.totp_on": ("已启用：登录时需要输入动态验证码。", "On: signing in asks for a one-time code."),
    "account.totp_pending": ("已生成密钥，等待确认。", "Enrolled, waiting for a code to confirm."),
    "account.enrol": ("启用动态验证码", "Turn on one-time codes"),
    "account.enrol_again": ("重新生成密钥", "Make a new secret"),
    "account.secret": ("密钥（仅显示这一次）", "Secret (shown this once)"),
    "account.uri": ("验证器应用的 otpauth 地址", "otpauth URI for the authenticator app"),
    "account.secret_hint": (
        "请在验证器应用中手动输入密钥（或粘贴 otpauth 地址），然后输入应用显示的 6 位数字以确认。",
        "Enter the secret in your authenticator app (or paste the otpauth URI), then the six digits it shows "
        "to confirm.",
    ),
    "account.code": ("动态验证码（6 位数字）", "One-time code (six digits)"),
    "account.confirm": ("确认启用", "Confirm"),
    "account.disable": ("停用动态验证码", "Turn off one-time codes"),
    "account.done_password": ("密码已修改，其他登录已退出。", "Password changed; your other sessions ended."),
    "account.done_totp_on": ("动态验证码已启用。", "One-time codes are on."),
    "account.done_totp_off": ("动态验证码已停用。", "One-time codes are off."),
    "account.totp_required": ("请输入验证器应用显示的动态验证码", "Enter the one-time code your app shows"),
}
