using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Registers.Import;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>The dashboard shows register problems in Chinese; the command line keeps the English of its contract.</summary>
public class ProblemTextZhFacts
{
    [Theory]
    [InlineData("persons.csv:6: employment_since: '2023-02-29' is not a real date, expected YYYY-MM-DD", "第 6 行:employment_since:“2023-02-29”不是存在的日期(格式 YYYY-MM-DD)")]
    [InlineData("录入:3: kind: '' is not one of holiday, workday", "第 3 行:kind:“”不是可选的值(可填:holiday, workday)")]
    [InlineData("amount: '-5' is negative, expected an amount ≥ 0 in yuan", "amount:“-5”是负数,金额(元)应不小于 0")]
    [InlineData("name: is empty, expected a value", "name:为空,此列必须填写")]
    [InlineData("header: missing column 'street', found: uscc, name / 缺少列:街道(street)", "缺少列:街道(street)")]
    [InlineData("3 problem(s); nothing was imported / 数据有误,未导入任何记录", "数据有误,未导入任何记录")]
    [InlineData("something the parsers never write", "something the parsers never write")]
    public void A_problem_is_shown_in_Chinese(string english, string chinese) =>
        Assert.Equal(chinese, ProblemTextZh.Zh(english));

    [Fact]
    public void The_column_is_named_by_its_Chinese_header_beside_its_code()
    {
        var shown = ProblemTextZh.Zh("persons.csv:9: hukou: 'town' is not one of urban, rural", c => c == "hukou" ? "户籍类型" : null);
        Assert.Equal("第 9 行:户籍类型(hukou):“town”不是可选的值(可填:urban, rural)", shown);
    }

    [Fact]
    public void What_the_identifier_and_field_parsers_write_for_bad_values_is_translated()
    {
        var today = new DateOnly(2026, 12, 2);
        string?[] written =
        [
            IdNumber.Problem("", today), IdNumber.Problem("11010519491231002", today), IdNumber.Problem("11010519491332002X", today),
            IdNumber.Problem("110105194912310020", today), IdNumber.Problem("1101051949123100A9", today),
            BankAccount.Problem(""), BankAccount.Problem("62220212345678901234"), BankAccount.Problem("6222021234567890X"),
            BankAccount.Problem("6222021234567890"),
        ];
        foreach (var problem in written.Where(p => p is not null))
        {
            var zh = ProblemTextZh.Zh(problem!);
            Assert.True(zh != problem && zh.Any(c => c is >= '\u4e00' and <= '\u9fff'), $"not translated: {problem}");
        }
    }
}
