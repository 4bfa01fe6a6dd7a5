using System.Text;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// Password rules (GB/T 22239-2019 level 3: complex passwords): at least 12 characters, not
/// containing the user name, zxcvbn strength 3 or more, valid text, at most 1 KB. A password that
/// is too long or not valid UTF-8 is refused before anything is hashed, at sign-in too.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 12;
    public const int MaxBytes = 1024;
    public const int MinScore = 3;

    /// <summary>True when the value may be hashed at all: at most 1 KB of valid UTF-8 (no U+FFFD from bad bytes).</summary>
    public static bool IsHashable(string? password) =>
        !string.IsNullOrEmpty(password)
        && password.Length <= MaxBytes
        && !password.Contains('\uFFFD')
        && IsWellFormed(password)
        && Encoding.UTF8.GetByteCount(password) <= MaxBytes;

    /// <summary>The reason a new password is refused (Chinese / English), or null when it is acceptable.</summary>
    public static string? Problem(string userName, string? password)
    {
        if (string.IsNullOrEmpty(password)) return "密码不能为空 / the password is empty";
        if (!IsHashable(password))
            return password.Length > MaxBytes || Encoding.UTF8.GetByteCount(password) > MaxBytes
                ? $"密码不能超过 {MaxBytes} 字节 / the password must be at most {MaxBytes} bytes"
                : "密码含有无效字符(非 UTF-8 文本) / the password is not valid UTF-8 text";
        if (password.Any(char.IsControl))
            return "密码不能含有控制字符 / the password must not contain control characters";
        if (password.EnumerateRunes().Count() < MinLength)
            return $"密码至少 {MinLength} 位 / the password must have at least {MinLength} characters";
        if (userName.Length > 0 && password.Contains(userName, StringComparison.OrdinalIgnoreCase))
            return "密码不能包含用户名 / the password must not contain the user name";
        var score = Zxcvbn.Zxcvbn.MatchPassword(password, [userName, "lingyuan", "凌源", "renshe", "password"]).Score;
        if (score < MinScore)
            return $"密码强度不足(评分 {score},至少 {MinScore}):请使用更长、不易猜测的密码,例如几个不相关的词加数字和符号 / the password is too easy to guess (score {score} < {MinScore})";
        return null;
    }

    private static bool IsWellFormed(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])) return false;
                i++;
            }
            else if (char.IsLowSurrogate(s[i])) return false;
        }
        return true;
    }
}
