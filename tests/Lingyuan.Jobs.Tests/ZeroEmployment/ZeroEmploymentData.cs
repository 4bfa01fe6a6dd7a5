using System.Runtime.CompilerServices;
using Dapper;
using Lingyuan.Jobs.Registers;
using Npgsql;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>A register row for the zero-employment tests; the ID number is built valid from birth and sex.</summary>
public sealed record Member(
    string Household, DateOnly Birth, bool Male, string Employment = "unemployed", bool Able = true, bool Wants = true,
    string Hukou = "urban", bool Business = false, int? FemaleBaseline = null,
    string Street = "城关街道", string Community = "南街社区", DateOnly? EmploymentSince = null);

public static class ZeroEmploymentData
{
    /// <summary>The test's own transaction as a unit of work, for the scan run inside it (and rolled back by the test).</summary>
    public static Lingyuan.Jobs.Database.UnitOfWork Work(NpgsqlConnection conn, NpgsqlTransaction tx) =>
        new(conn, tx, Lingyuan.Jobs.Database.Acting.System, timeout: 900, CancellationToken.None);

    private static int _seq;

    /// <summary>A valid resident ID number (GB 11643-1999) for a birth date and sex, unique within the test run.</summary>
    public static string Id(DateOnly birth, bool male)
    {
        var seq = (Interlocked.Increment(ref _seq) % 499) * 2 + (male ? 1 : 0);
        var first17 = $"211382{birth:yyyyMMdd}{seq:000}";
        return first17 + IdNumber.CheckCharacter(first17);
    }

    /// <summary>Inserts the members; returns their ID numbers in order.</summary>
    public static async Task<string[]> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, params Member[] members)
    {
        var ids = members.Select(m => Id(m.Birth, m.Male)).ToArray();
        for (var i = 0; i < members.Length; i++)
        {
            var m = members[i];
            await conn.ExecuteAsync("""
                INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work,
                                         employment, employment_since, business_income, female_baseline)
                VALUES (@id, '测试居民', @Household, @Street, @Community, @Hukou, @Able, @Wants, @Employment, @EmploymentSince, @Business, @FemaleBaseline)
                """, new { id = ids[i], m.Household, m.Street, m.Community, m.Hukou, m.Able, m.Wants, m.Employment, m.EmploymentSince, m.Business, FemaleBaseline = (short?)m.FemaleBaseline }, tx);
        }
        return ids;
    }

    public static Task AddCommunityAsync(NpgsqlConnection conn, string street, string community, string name, string email) =>
        conn.ExecuteAsync("INSERT INTO app.communities (street, community, caseworker_name, caseworker_email) VALUES (@street, @community, @name, @email)",
            new { street, community, name, email });

    public static Task ResetAsync(NpgsqlConnection conn) =>
        conn.ExecuteAsync("TRUNCATE app.zero_employment_cases, app.persons, app.communities, app.outbox, app.outbox_attachments");

    public sealed record Mail(string DedupeKey, string RecipientList, string Subject, string TextBody, string HtmlBody)
    {
        public string[] Recipients => RecipientList.Split(',');
    }

    /// <summary>
    /// What the check queued for delivery to recipients of a domain. The outbox delivery job is not on main yet,
    /// so the tests count queued messages, not messages at the SMTP server.
    /// </summary>
    public static async Task<List<Mail>> QueuedToAsync(NpgsqlConnection conn, string domain) =>
        (await conn.QueryAsync<Mail>(
            "SELECT dedupe_key AS DedupeKey, array_to_string(recipients, ',') AS RecipientList, subject AS Subject, text_body AS TextBody, html_body AS HtmlBody FROM app.outbox WHERE EXISTS (SELECT 1 FROM unnest(recipients) r WHERE r LIKE '%@' || @domain) ORDER BY id",
            new { domain })).AsList();

    /// <summary>The synthetic household generator shared with the bench (synthetic-households.sql beside this file).</summary>
    public static string SyntheticSql([CallerFilePath] string here = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, "synthetic-households.sql"));
}
