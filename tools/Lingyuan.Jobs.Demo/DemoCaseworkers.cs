using Dapper;
using Npgsql;

namespace Lingyuan.Jobs.Demo;

/// <summary>
/// The demo's community caseworkers (issue #17): one caseworker per street or town (the 街道/乡镇 employment
/// service office) serves all of its communities, so the communities register names one e-mail per street,
/// <c>caseworker-SS@lingyuan-demo.test</c>, and the zero-employment check sends each of them one digest per run
/// listing the households of all their communities. ops/run creates the dashboard accounts of the urban streets'
/// caseworkers (<c>demo-caseworker01</c> … <c>demo-caseworker07</c>, role caseworker) with these e-mails.
/// </summary>
public static class DemoCaseworkers
{
    /// <summary>The e-mail of the caseworker of the street numbered <paramref name="street"/> (1-based, the seeder's order).</summary>
    public static string Email(int street) => $"caseworker-{street:D2}@{DemoNames.MailDomain}";

    /// <summary>Rewrites the seeded communities so that each street's communities share the caseworker of its first community.</summary>
    public static Task<int> OnePerStreetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(
            """
            UPDATE app.communities c
            SET caseworker_email = 'caseworker-' || s.n || '@' || @domain, caseworker_name = s.name
            FROM (SELECT street, substring(min(caseworker_email) FROM '^caseworker-(\d\d)-') AS n,
                         (array_agg(caseworker_name ORDER BY caseworker_email))[1] AS name
                  FROM app.communities GROUP BY street) s
            WHERE s.street = c.street
            """, new { domain = DemoNames.MailDomain }, tx, cancellationToken: ct));
}
