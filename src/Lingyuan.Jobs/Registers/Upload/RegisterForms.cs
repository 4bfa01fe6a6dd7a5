using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Registers.Import;

namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>
/// A register as the upload page offers it: its Chinese name, who may load it (admin always), and the example row of
/// its template. A kind is offered on the page when it has a form here; add one beside a new kind.
/// </summary>
public sealed record RegisterForm(string Kind, string TitleZh, string[] Roles, IReadOnlyDictionary<string, string> Example);

/// <summary>
/// The table of registers on the page. Who loads what follows who answers for it: finance for what money is paid on
/// (cards, entitlements, life events); inspection for what inspections and arrears work on (employers, inspectors,
/// conflicts, arrears cases); the resident register (persons) and the communities with their caseworkers feed several
/// departments and are loaded by the administrator (the bureau's information centre); the holiday calendar moves every
/// deadline, and whoever keeps deadlines may load it (admin, inspection, finance).
/// </summary>
public static class RegisterForms
{
    private static readonly string IdExample = "21138219850315123" + IdNumber.CheckCharacter("21138219850315123");
    private static readonly string UsccExample = "91211382MA0L2K3P4" + Uscc.CheckCharacter("91211382MA0L2K3P4");
    private static readonly string AccountExample = "621700001234567890" + BankAccount.LuhnCheckDigit("621700001234567890");

    public static readonly RegisterForm[] All =
    [
        new("entitlements", "待遇发放名录", [Roles.Finance], new Dictionary<string, string>
        {
            ["id_number"] = IdExample, ["benefit"] = "resident_pension", ["monthly_amount"] = "233.00",
            ["start_period"] = "2026-01", ["end_period"] = "", ["suspended"] = "false",
        }),
        new("cards", "社保卡名录", [Roles.Finance], new Dictionary<string, string>
        {
            ["id_number"] = IdExample, ["card_no"] = "SC211382000001", ["bank_code"] = "ICBC", ["bank_account"] = AccountExample,
            ["financial_status"] = "active",
        }),
        new("life-events", "生存状态与资格事件", [Roles.Finance], new Dictionary<string, string>
        {
            ["id_number"] = IdExample, ["event"] = "eligibility_verified", ["date"] = "2026-11-20",
        }),
        new("employers", "用人单位名录", [Roles.Inspection], new Dictionary<string, string>
        {
            ["uscc"] = UsccExample, ["name"] = "凌源市示例建筑有限公司", ["street"] = "红山街道", ["community"] = "新华社区",
            ["industry"] = "建筑业", ["risk_class"] = "B", ["migrant_workers"] = "35", ["email"] = "hr@example.com",
            ["legal_rep_name"] = "张三", ["legal_rep_id_number"] = IdExample, ["abnormal"] = "false", ["complaints"] = "0",
        }),
        new("inspectors", "执法人员名录", [Roles.Inspection], new Dictionary<string, string>
        {
            ["badge_no"] = "LY-0001", ["name"] = "李四", ["email"] = "lisi@example.com", ["unit"] = "凌源市劳动保障监察大队",
            ["street"] = "红山街道", ["active"] = "true",
        }),
        new("conflicts", "回避关系", [Roles.Inspection], new Dictionary<string, string>
        {
            ["badge_no"] = "LY-0001", ["uscc"] = UsccExample, ["reason"] = "近亲属任该单位法定代表人",
        }),
        new("arrears-cases", "欠薪案件", [Roles.Inspection], new Dictionary<string, string>
        {
            ["case_no"] = "LYJC-2026-001", ["uscc"] = UsccExample, ["workers_affected"] = "12", ["amount_owed"] = "360000.00",
            ["max_months_owed"] = "4", ["order_issued_on"] = "2026-10-08", ["pay_deadline"] = "2026-10-22", ["paid_on"] = "",
            ["incident"] = "none", ["credit_promise_on"] = "", ["responsible_persons"] = "王五",
        }),
        // arrears-workers (per-worker amounts of an arrears case) is loaded with `import arrears-workers` for now: its
        // rows name cases of the arrears-cases register, so a template's example row cannot stand on its own.
        new("persons", "人员名册", [], new Dictionary<string, string>
        {
            ["id_number"] = IdExample, ["name"] = "赵六", ["household_no"] = "HH2113820001", ["street"] = "红山街道",
            ["community"] = "新华社区", ["hukou"] = "urban", ["able_to_work"] = "true", ["wants_work"] = "true",
            ["employment"] = "unemployed", ["employment_since"] = "2026-03-01", ["business_income"] = "false", ["female_baseline"] = "",
        }),
        new("communities", "社区与协理员", [], new Dictionary<string, string>
        {
            ["street"] = "红山街道", ["community"] = "新华社区", ["caseworker_name"] = "孙七", ["caseworker_email"] = "sunqi@example.com",
        }),
        new("holidays", "节假日安排", [Roles.Inspection, Roles.Finance], new Dictionary<string, string>
        {
            ["date"] = "2027-01-01", ["kind"] = "holiday",
        }),
    ];

    public static RegisterForm? Find(string kind) => All.FirstOrDefault(f => f.Kind == kind);

    /// <summary>Whether the user may load this register (admin may load every one).</summary>
    public static bool MayLoad(this System.Security.Claims.ClaimsPrincipal user, RegisterForm form) => user.IsAny(form.Roles);

    /// <summary>The header a template shows for a column: its Chinese name, or the English one where it has none.</summary>
    public static string Header(ImportColumn c) => c.Chinese ?? c.Name;
}
