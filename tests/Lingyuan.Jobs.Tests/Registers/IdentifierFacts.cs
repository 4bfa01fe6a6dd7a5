using CsCheck;
using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.Tests.Registers;

public class IdentifierFacts
{
    private static readonly DateOnly Today = new(2026, 11, 28);

    // A valid ID number: region, a real past birth date, sequence, and the computed check character.
    public static readonly Gen<string> ValidIdNumber =
        from region in Gen.Int[110000, 659999]
        from days in Gen.Int[0, 365 * 100]
        from seq in Gen.Int[0, 999]
        let birth = Today.AddDays(-days)
        let first17 = $"{region:D6}{birth:yyyyMMdd}{seq:D3}"
        select first17 + IdNumber.CheckCharacter(first17);

    public static readonly Gen<string> ValidUscc =
        from head in Gen.Char[Uscc.Alphabet].Array[2]
        from region in Gen.Int[0, 999999]
        from tail in Gen.Char[Uscc.Alphabet].Array[9]
        let first17 = new string(head) + region.ToString("D6") + new string(tail)
        select first17 + Uscc.CheckCharacter(first17);

    public static readonly Gen<string> ValidBankAccount =
        from length in Gen.Int[16, 19]
        from digits in Gen.Char['0', '9'].Array[length - 1]
        let payload = new string(digits)
        select payload + BankAccount.LuhnCheckDigit(payload);

    [Fact]
    public void Worked_example_of_GB11643_is_valid_and_lower_case_x_is_normalised()
    {
        Assert.Null(IdNumber.Problem("11010519491231002X", Today));
        Assert.Null(IdNumber.Problem("11010519491231002x", Today));
        var (birth, sex) = IdNumber.Parse("11010519491231002X");
        Assert.Equal(new DateOnly(1949, 12, 31), birth);
        Assert.Equal(Sex.Female, sex);
    }

    [Fact]
    public void Worked_examples_of_GB32100_are_checked()
    {
        Assert.Null(Uscc.Problem("91350100M000100Y43"));
        Assert.Equal("check character is 'Z', expected '3'", Uscc.Problem("91350100M000100Y4Z"));
        Assert.Null(Uscc.Problem("9135 0100M000100Y43"));
    }

    [Fact]
    public void Problems_name_what_is_wrong_and_what_was_expected()
    {
        Assert.Equal("check character is '3', expected 'X'", IdNumber.Problem("110105194912310023", Today));
        Assert.Equal("birth date '19491332' is not a real date", IdNumber.Problem("110105194913320023", Today));
        Assert.Equal("has 17 characters, expected 18", IdNumber.Problem("11010519491231002", Today));
        Assert.Contains("in the future", IdNumber.Problem("110105202712310021", Today));
        Assert.Equal("Luhn check digit is '1', expected '4'", BankAccount.Problem("6217000000000000001"));
        Assert.Null(BankAccount.Problem("6217000000000000004"));
        Assert.Contains("expected 16-19 digits", BankAccount.Problem("621700000000001"));
    }

    [Fact]
    public void Generated_valid_id_numbers_pass_and_every_single_character_change_fails() =>
        ValidIdNumber.Sample(id =>
        {
            Assert.True(IdNumber.IsValid(id, Today), id);
            for (var i = 0; i < 18; i++)
                foreach (var c in "0123456789X")
                    if (c != id[i])
                        Assert.False(IdNumber.IsValid(id[..i] + c + id[(i + 1)..], Today), $"{id} changed at {i} to {c}");
        }, iter: 300);

    [Fact]
    public void Generated_valid_credit_codes_pass_and_every_single_character_change_fails() =>
        ValidUscc.Sample(code =>
        {
            Assert.True(Uscc.IsValid(code), code);
            for (var i = 0; i < 18; i++)
                foreach (var c in Uscc.Alphabet + "IOSVZ")
                    if (c != code[i])
                        Assert.False(Uscc.IsValid(code[..i] + c + code[(i + 1)..]), $"{code} changed at {i} to {c}");
        }, iter: 200);

    [Fact]
    public void Generated_valid_bank_accounts_pass_and_every_single_digit_change_fails() =>
        ValidBankAccount.Sample(account =>
        {
            Assert.True(BankAccount.IsValid(account), account);
            for (var i = 0; i < account.Length; i++)
                for (var c = '0'; c <= '9'; c++)
                    if (c != account[i])
                        Assert.False(BankAccount.IsValid(account[..i] + c + account[(i + 1)..]), $"{account} changed at {i}");
        }, iter: 300);

    [Fact]
    public void Masks_keep_only_the_ends()
    {
        Assert.Equal("110105********002X", IdNumber.Mask("11010519491231002X"));
        Assert.Equal("6217*********0001", BankAccount.Mask("62170000000000001"));
        Assert.Equal("6217********1234", BankAccount.Mask("6217000000001234"));
    }
}
