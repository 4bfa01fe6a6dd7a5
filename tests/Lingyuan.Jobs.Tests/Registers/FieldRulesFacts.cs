using System.Globalization;
using CsCheck;
using Lingyuan.Jobs.Exports;
using Lingyuan.Jobs.Registers.Import;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>Property tests of the field rules of register files (pure functions: no database).</summary>
public sealed class FieldRulesFacts
{
    private static readonly ParseContext Today = new(new DateOnly(2026, 11, 28));

    private static (string? Error, object? Value) Parse(FieldParser p, string raw)
    {
        var error = p(raw, in Today, out var value);
        return (error, value);
    }

    [Fact]
    public void Every_amount_in_fen_written_as_yuan_parses_back_to_the_same_fen()
    {
        var yuan = Fields.Yuan();
        Gen.Long[0, 100_000_000_000_00].Sample(fen =>
        {
            var text = (fen / 100).ToString(CultureInfo.InvariantCulture) + "." + (fen % 100).ToString("D2", CultureInfo.InvariantCulture);
            Assert.Equal((null, (object)fen), Parse(yuan, text));
            if (fen % 10 == 0) Assert.Equal((null, (object)fen), Parse(yuan, text[..^1])); // one decimal
            Assert.StartsWith($"'{text}1' has 3 decimals", Parse(yuan, text + "1").Error);
            if (fen > 0) Assert.StartsWith($"'-{text}' is negative", Parse(yuan, "-" + text).Error);
        });
    }

    [Fact]
    public void Every_real_date_and_period_parses_and_every_day_past_the_month_end_does_not()
    {
        var date = Fields.Date();
        var period = Fields.Period();
        Gen.Int[0, 60_000].Sample(offset =>
        {
            var d = new DateOnly(1900, 1, 1).AddDays(offset);
            Assert.Equal((null, (object)d), Parse(date, d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
            Assert.Equal((null, (object)new DateOnly(d.Year, d.Month, 1)), Parse(period, d.ToString("yyyy-MM", CultureInfo.InvariantCulture)));
            var pastEnd = $"{d:yyyy-MM}-{DateTime.DaysInMonth(d.Year, d.Month) + 1}";
            Assert.Equal($"'{pastEnd}' is not a real date, expected YYYY-MM-DD", Parse(date, pastEnd).Error);
        });
    }

    [Fact]
    public void Every_valid_id_number_passes_and_every_other_check_character_is_refused_naming_the_right_one()
    {
        var gen = Gen.Select(Gen.Int[0, 37_000], Gen.Int[0, 999], Gen.Int[0, 10]);
        gen.Sample((days, seq, other) =>
        {
            var id = RegisterFiles.IdNumber(seq, new DateOnly(1920, 1, 1).AddDays(days));
            Assert.Equal((null, (object)id), Parse(Fields.ResidentId, id));
            var wrong = "0123456789X"[other];
            if (wrong == id[17]) return;
            Assert.Equal($"check character is '{wrong}', expected '{id[17]}'", Parse(Fields.ResidentId, id[..17] + wrong).Error);
        });
    }

    [Fact]
    public void Every_valid_bank_account_passes_and_a_changed_last_digit_is_refused()
    {
        Gen.Long[0, 999_999_999_999].Sample(n =>
        {
            var account = RegisterFiles.BankAccount(n);
            Assert.Equal((null, (object)account), Parse(Fields.CardAccount, account));
            var wrong = (char)('0' + (account[^1] - '0' + 1) % 10);
            Assert.Equal($"Luhn check digit is '{wrong}', expected '{account[^1]}'", Parse(Fields.CardAccount, account[..^1] + wrong).Error);
        });
    }

    [Fact]
    public void Formula_like_cells_are_neutralised_and_other_text_is_left_alone()
    {
        Gen.String.Sample(s =>
        {
            var n = SpreadsheetText.Neutralise(s);
            if (s.Length > 0 && "=+-@\t\r\n＝＋－＠".Contains(s[0])) Assert.Equal("'" + s, n);
            else Assert.Equal(s, n);
        });
        // Generated strings rarely start with these; the full-width forms a Chinese input method types, by name.
        foreach (var cell in new[] { "＝HYPERLINK(\"x\")", "＠SUM(A1)", "\n=1+1" })
            Assert.Equal("'" + cell, SpreadsheetText.Neutralise(cell));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("FALSE", false)]
    [InlineData(" True ", true)]
    public void Booleans_are_true_or_false_in_any_case(string raw, bool expected) =>
        Assert.Equal((null, (object)expected), Parse(Fields.TrueFalse, raw));

    [Theory]
    [InlineData("1")]
    [InlineData("是")]
    [InlineData("")]
    public void Other_boolean_spellings_are_refused(string raw) =>
        Assert.Equal($"'{raw}' is not a boolean, expected true or false", Parse(Fields.TrueFalse, raw).Error);
}
