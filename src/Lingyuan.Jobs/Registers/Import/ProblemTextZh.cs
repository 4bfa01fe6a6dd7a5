using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>
/// The register problems (<see cref="Fields"/>, <see cref="IdNumber"/>, …) as the dashboard shows them: in Chinese,
/// the column by its Chinese header. The command line and the rejects file keep the English text, which is part of
/// their contract (INTERFACES.md) and which tests and scripts read; a page translates it here, by the shapes the
/// parsers write. A text of another shape is shown as it is (its Chinese half, where it has one).
/// </summary>
public static partial class ProblemTextZh
{
    private static readonly (Regex Shape, string Zh)[] Shapes =
    [
        (new(@"^is empty, expected a value$"), "为空,此列必须填写"),
        (new(@"^is (\d+) characters long, expected at most (\d+)$"), "长度为 $1 个字符,最多 $2 个"),
        (new(@"^contains the control character (U\+[0-9A-F]+), expected printable text$"), "含控制字符 $1,应为可打印的文字"),
        (new(@"^contains the bidirectional control (U\+[0-9A-F]+), expected plain text$"), "含双向控制字符 $1,应为普通文字"),
        (new(@"^has only invisible characters, expected visible text$"), "只有不可见的字符"),
        (new(@"^is empty, expected a code$"), "为空,应填写代码"),
        (new(@"^contains '(.*)', expected letters, digits, '-', '_' or '/'$"), "含字符“$1”,只能使用字母、数字和 - _ /"),
        (new(@"^is empty, expected an e-mail address$"), "为空,应填写电子邮箱"),
        (new(@"^is not an e-mail address, expected name@domain$"), "不是电子邮箱地址(格式应为 名称@域名)"),
        (new(@"^'(.*)' is not one of (.*)$"), "“$1”不是可选的值(可填:$2)"),
        (new(@"^'(.*)' is not a boolean, expected true or false$"), "“$1”不是是/否值(应填 true 或 false)"),
        (new(@"^'(.*)' is negative, expected a whole number ≥ 0$"), "“$1”是负数,应为不小于 0 的整数"),
        (new(@"^'(.*)' is not a whole number, expected digits only$"), "“$1”不是整数,只能填数字"),
        (new(@"^(\d+) is too large, expected at most (\d+)$"), "$1 过大,最大为 $2"),
        (new(@"^'(.*)' is negative, expected an amount ≥ 0 in yuan$"), "“$1”是负数,金额(元)应不小于 0"),
        (new(@"^'(.*)' is not an amount, expected yuan such as 1234\.56 \(no sign, no thousands separator\)$"), "“$1”不是金额,应以元为单位,如 1234.56(不带正负号和千位分隔符)"),
        (new(@"^'(.*)' has (\d+) decimals, expected at most 2 \(fen\)$"), "“$1”有 $2 位小数,最多 2 位(到分)"),
        (new(@"^'(.*)' is too large, expected at most (\d+) yuan$"), "“$1”过大,最多 $2 元"),
        (new(@"^is empty, expected a date YYYY-MM-DD$"), "为空,应填写日期(YYYY-MM-DD)"),
        (new(@"^'(.*)' is not a real date, expected YYYY-MM-DD$"), "“$1”不是存在的日期(格式 YYYY-MM-DD)"),
        (new(@"^'(.*)' is not a date, expected YYYY-MM-DD$"), "“$1”不是日期(格式 YYYY-MM-DD)"),
        (new(@"^'(.*)' is before 1900, expected a (date|period) in the register's range$"), "“$1”早于 1900 年"),
        (new(@"^'(.*)' is in the future, expected a date on or before (\S+)$"), "“$1”是将来的日期,应不晚于 $2"),
        (new(@"^is empty, expected a period YYYY-MM$"), "为空,应填写月份(YYYY-MM)"),
        (new(@"^'(.*)' is not a period, expected YYYY-MM$"), "“$1”不是月份(格式 YYYY-MM)"),
        (new(@"^is empty, expected an 18-character ID number$"), "为空,应填写 18 位身份证号码"),
        (new(@"^is empty, expected an 18-character credit code$"), "为空,应填写 18 位统一社会信用代码"),
        (new(@"^has (\d+) characters, expected 18$"), "有 $1 位,应为 18 位"),
        (new(@"^character (\d+) is '(.*)', expected a digit$"), "第 $1 位是“$2”,应为数字"),
        (new(@"^character (\d+) is '(.*)', expected a digit \(region code\)$"), "第 $1 位是“$2”,应为数字(行政区划码)"),
        (new(@"^character (\d+) is '(.*)', expected one of (\S+)$"), "第 $1 位是“$2”,不是代码允许的字符"),
        (new(@"^check character is '(.*)', expected a digit or X$"), "校验位是“$1”,应为数字或 X"),
        (new(@"^birth date '(.*)' is not a real date$"), "出生日期“$1”不是存在的日期"),
        (new(@"^birth date (\S+) is before (\S+), expected a birth date in the register's range$"), "出生日期 $1 早于 $2"),
        (new(@"^birth date (\S+) is in the future$"), "出生日期 $1 是将来的日期"),
        (new(@"^check character is '(.*)', expected '(.*)'$"), "校验位是“$1”,按前 17 位应为“$2”"),
        (new(@"^Luhn check digit is '(.*)', expected '(.*)'$"), "校验位是“$1”,按卡号前几位应为“$2”"),
        (new(@"^is empty, expected 16-19 digits$"), "为空,应填写 16 到 19 位数字"),
        (new(@"^has (\d+) characters, expected 16-19 digits$"), "有 $1 位,应为 16 到 19 位数字"),
        (new(@"^contains '(.*)', expected digits only$"), "含字符“$1”,只能填数字"),
    ];

    /// <summary>One problem: <c>[FILE:ROW: ]COLUMN: PROBLEM</c> or a bare problem; the column named by <paramref name="header"/>.</summary>
    public static string Zh(string text, Func<string, string?>? header = null)
    {
        var zh = UserText.Zh(text);
        if (!ReferenceEquals(zh, text) && zh != text) return zh;
        var m = Located().Match(text);
        var prefix = "";
        var rest = text;
        if (m.Success)
        {
            prefix = $"第 {m.Groups["row"].Value} 行:";
            rest = m.Groups["rest"].Value;
        }
        var c = Column().Match(rest);
        if (c.Success && Problem(c.Groups["problem"].Value) is { } p)
        {
            var name = c.Groups["column"].Value;
            var shown = header?.Invoke(name) is { } h ? $"{h}({name})" : name;
            return $"{prefix}{shown}:{p}";
        }
        return Problem(rest) is { } bare ? prefix + bare : text;
    }

    private static string? Problem(string problem)
    {
        foreach (var (shape, zh) in Shapes)
            if (shape.IsMatch(problem)) return shape.Replace(problem, zh);
        return null;
    }

    [GeneratedRegex(@"^[^:]*:(?<row>\d+): (?<rest>.*)$", RegexOptions.Singleline)]
    private static partial Regex Located();

    [GeneratedRegex(@"^(?<column>[a-z][a-z0-9_]*): (?<problem>.*)$", RegexOptions.Singleline)]
    private static partial Regex Column();
}
