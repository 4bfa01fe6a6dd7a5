using System.Security.Claims;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>Dashboard roles (QUALITY.md, Security). <c>admin</c> may do everything.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Finance = "finance";
    public const string Inspection = "inspection";
    /// <summary>Community caseworker (社区就业协理员): sees and confirms the zero-employment proposals of the communities whose register row names the account's e-mail.</summary>
    public const string Caseworker = "caseworker";

    public static readonly string[] All = [Admin, Operator, Finance, Inspection, Caseworker];

    public static string NameZh(string role) => role switch
    {
        Admin => "管理员",
        Operator => "值班操作员(只读)",
        Finance => "财务审核",
        Inspection => "劳动监察",
        Caseworker => "社区就业协理员",
        _ => role,
    };

    public static bool IsAny(this ClaimsPrincipal user, IEnumerable<string> roles) =>
        user.IsInRole(Admin) || roles.Any(user.IsInRole);
}

/// <summary>Authorization policy names.</summary>
public static class Policies
{
    public const string SignedIn = "signed-in";
    public const string Admin = "admin";
    public const string Finance = "finance";
    public const string Inspection = "inspection";
    public const string Caseworker = "caseworker";
}
