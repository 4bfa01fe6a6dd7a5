using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>The wording of every notice and decision (Simplified Chinese). Sources are named in the text itself.</summary>
public sealed class ArrearsNotices(WageArrearsOptions o)
{
    private const string Rules = "《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》(人力资源社会保障部令第45号)";
    private const string Regulation = "《保障农民工工资支付条例》";
    private const string Basis = Rules + "第五条和" + Regulation + "第四十八条";

    private static string D(DateOnly d) => DocRender.DateZh(d);
    private static string D(DateOnly? d) => d is { } v ? DocRender.DateZh(v) : "—";

    /// <summary>
    /// The measures exactly as 《保障农民工工资支付条例》 art. 48 names them (DOMAIN.md §4); nothing added (no
    /// 生产许可、履约担保、资质审核), nothing left out (税收优惠).
    /// </summary>
    public const string Article48Measures = "在政府资金支持、政府采购、招投标、融资贷款、市场准入、税收优惠、评优评先、交通出行等方面依法依规予以限制";

    // The party as fixed at decision once listed (CaseView.Party*), before that as the register shows it.
    private static string Party(CaseView c) => $"{c.PartyName}(统一社会信用代码:{c.Uscc})";

    private static string Persons(CaseView c)
    {
        var s = $"法定代表人(主要负责人){c.PartyLegalRepName}";
        return string.IsNullOrWhiteSpace(c.PartyResponsiblePersons) ? s : $"{s}、直接责任人员{c.PartyResponsiblePersons}";
    }

    private static string Served(CaseView c) => c.ServedOn is { } s
        ? $"本机关于{D(c.NoticeSentOn)}发出告知书,于{D(s)}{(c.ServiceMethod == ServiceMethods.Email ? "以电子方式" : c.ServiceMethod == ServiceMethods.Post ? "邮寄" : "直接")}送达你单位"
        : $"本机关于{D(c.NoticeSentOn)}向你单位发出告知书";

    private static string DocNo(string kind, CaseView c, DateOnly on) => $"凌人社{kind}〔{on.Year}〕{c.CaseNo}号";

    private Fields PartyFields(CaseView c) => new([
        ("当事人", c.PartyName ?? ""),
        ("统一社会信用代码", c.Uscc),
        ("法定代表人(主要负责人)", c.PartyLegalRepName ?? ""),
        ("法定代表人身份证号码", IdNumber.Mask(c.PartyLegalRepIdNumber)),
        ("直接责任人员", string.IsNullOrWhiteSpace(c.PartyResponsiblePersons) ? "—" : c.PartyResponsiblePersons),
        ("案件编号", c.CaseNo),
    ]);

    private static Fields CaseFields(CaseView c) => new([
        ("拖欠人数", $"{c.WorkersAffected} 人"),
        ("拖欠金额", $"{Money.Yuan(c.AmountOwedFen)} 元"),
        ("最长拖欠月数", $"{c.MaxMonthsOwed} 个月"),
        ("责令限期支付日期", D(c.OrderIssuedOn)),
        ("支付期限", D(c.PayDeadline)),
    ]);

    public Doc PreListingNotice(CaseView c, ListingThresholds t, DateOnly sentOn) => new(
        "拟列入拖欠农民工工资失信联合惩戒对象名单告知书",
        DocNo("欠薪告字", c, sentOn),
        Party(c),
        [
            new Para($"经查,你单位{ListingTest.ReasonZh(ListingTest.Parse(c.TestRule!), c.Facts, t)}(本机关于{D(c.OrderIssuedOn)}责令你单位于{D(c.PayDeadline)}前支付)。"),
            new Para($"依据{Basis}的规定,本机关拟将你单位及其{Persons(c)}列入拖欠农民工工资失信联合惩戒对象名单。"),
            new Para($"你单位依法享有陈述、申辩的权利。你单位可以自本告知书送达之日起{o.StatementPeriodWorkingDays}个工作日内(送达当日不计入),向本机关提出书面陈述、申辩;逾期未提出的,视为放弃陈述、申辩的权利。本机关将在收到陈述、申辩之日起{o.StatementCheckWorkingDays}个工作日内予以核实,并将核实结果告知你单位。"),
            new Para("在本机关作出列入决定前,你单位已经改正拖欠工资违法行为,且作出不再拖欠农民工工资书面信用承诺的,本机关可以依法不予列入。"),
            PartyFields(c),
            CaseFields(c),
        ],
        o.Authority, sentOn);

    public Doc StatementCheckResult(CaseView c, DateOnly on) => new(
        "陈述申辩核查结果告知书",
        DocNo("欠薪核字", c, on),
        Party(c),
        [
            new Para($"{Served(c)}。本机关于{D(c.StatementReceivedOn)}收到你单位提出的陈述、申辩,经核实,现将核查结果告知如下:"),
            new Para(c.StatementCheckResult ?? ""),
            new Fields([("陈述申辩要点", c.StatementSummary ?? ""), ("收到日期", D(c.StatementReceivedOn)), ("核查日期", D(on))]),
            PartyFields(c),
        ],
        o.Authority, on);

    public Doc ListingDecision(CaseView c, DateOnly decidedOn, DateOnly listedUntil, string reason) => new(
        "列入拖欠农民工工资失信联合惩戒对象名单决定书",
        DocNo("欠薪失信决字", c, decidedOn),
        Party(c),
        [
            new Heading("一、当事人"),
            PartyFields(c),
            new Heading("二、列入事由"),
            new Para($"经查,你单位{reason}。"),
            CaseFields(c),
            new Para(c.StatementReceivedOn is { } s
                ? $"{Served(c)},并于{D(s)}收到你单位的陈述、申辩,经核实:{c.StatementCheckResult}。"
                : $"{Served(c)},你单位在陈述申辩期限({D(c.StatementDueOn)}届满)内未提出陈述、申辩。"),
            new Heading("三、列入依据"),
            new Para($"{Basis}。"),
            new Heading("四、列入期限"),
            new Para($"本机关决定将你单位及其{Persons(c)}列入拖欠农民工工资失信联合惩戒对象名单,期限为{o.ListingYears}年,自{D(decidedOn)}起至{D(listedUntil.AddDays(-1))}止。"),
            new Heading("五、惩戒措施"),
            new Numbered([
                "列入名单信息通过本机关门户网站等予以公示,并推送至同级信用信息共享平台,由相关部门实施联合惩戒;",
                $"依据{Regulation}第四十八条,{Article48Measures};",
            ]),
            new Heading("六、信用修复"),
            new Para($"你单位同时符合下列条件的,可以向本机关申请提前移出名单:(一)已经改正拖欠农民工工资违法行为;(二)自改正之日起被列入名单满{o.RepairWaitMonths}个月;(三)作出不再拖欠农民工工资的书面信用承诺。本机关自收到申请之日起{o.RemovalDecisionWorkingDays}个工作日内作出决定;不予提前移出的,书面说明理由。列入名单期间再次发生拖欠农民工工资违法行为的,不予提前移出;以提供虚假材料等不正当手段获得提前移出的,撤销提前移出决定,恢复列入状态。"),
            new Heading("七、救济途径"),
            new Para($"如不服本决定,可以自收到本决定书之日起六十日内向{o.ReviewBody}申请行政复议,或者自收到本决定书之日起六个月内向{o.Court}提起行政诉讼。"),
        ],
        o.Authority, decidedOn);

    public Doc NotListedDecision(CaseView c, DateOnly decidedOn, string reason) => new(
        "不予列入拖欠农民工工资失信联合惩戒对象名单决定书",
        DocNo("欠薪不列字", c, decidedOn),
        Party(c),
        [
            new Para($"{Served(c)}(拟列入拖欠农民工工资失信联合惩戒对象名单告知书)。经审查,{reason}。"),
            new Para($"依据{Rules}的规定,本机关决定不将你单位列入拖欠农民工工资失信联合惩戒对象名单。你单位应当严格遵守{Regulation},按时足额支付农民工工资。"),
            PartyFields(c),
        ],
        o.Authority, decidedOn);

    public Doc RemovalNotice(CaseView c, DateOnly removedOn, string kind, string reason) => new(
        "移出拖欠农民工工资失信联合惩戒对象名单决定书",
        DocNo("欠薪移出字", c, removedOn),
        Party(c),
        [
            new Para(kind switch
            {
                "expired" => $"你单位及其{Persons(c)}于{D(c.DecidedOn)}被列入拖欠农民工工资失信联合惩戒对象名单,列入期限已于{D(removedOn)}届满。",
                "repaired" => $"你单位申请提前移出,符合信用修复条件。",
                _ => $"本机关于{D(c.DecidedOn)}作出的列入决定已被撤销。理由:{reason}。",
            }),
            new Para($"依据{Rules}的规定,本机关决定自{D(removedOn)}起将你单位及其{Persons(c)}移出拖欠农民工工资失信联合惩戒对象名单,停止公示,并通报相关部门停止实施联合惩戒。"),
            PartyFields(c),
        ],
        o.Authority, removedOn);

    public Doc EarlyRemovalDecision(CaseView c, RemovalApplication a, DateOnly on) => new(
        "提前移出拖欠农民工工资失信联合惩戒对象名单决定书",
        DocNo("欠薪提前移出字", c, on),
        Party(c),
        [
            new Para($"你单位于{D(a.AppliedOn)}申请提前移出拖欠农民工工资失信联合惩戒对象名单。经核实,你单位已于{D(a.CorrectedOn)}改正拖欠农民工工资违法行为(证明材料:{a.PaymentProof}),自改正之日起被列入名单已满{o.RepairWaitMonths}个月,并于{D(a.CreditPromiseOn)}作出不再拖欠农民工工资的书面信用承诺。"),
            new Para($"依据{Rules}第十二条至第十四条的规定,本机关决定自{D(on)}起将你单位及其{Persons(c)}提前移出拖欠农民工工资失信联合惩戒对象名单,停止公示,并通报相关部门停止实施联合惩戒。"),
            new Para("以提供虚假材料等不正当手段获得提前移出的,本机关将撤销本决定,恢复列入状态,列入期限按原列入决定执行。"),
            PartyFields(c),
        ],
        o.Authority, on);

    public Doc RemovalRefusal(CaseView c, RemovalApplication a, DateOnly on, string reasons) => new(
        "不予提前移出拖欠农民工工资失信联合惩戒对象名单决定书",
        DocNo("欠薪不予移出字", c, on),
        Party(c),
        [
            new Para($"你单位于{D(a.AppliedOn)}申请提前移出拖欠农民工工资失信联合惩戒对象名单。经核实,你单位的申请不符合{Rules}规定的提前移出条件,理由如下:"),
            new Para(reasons),
            new Para($"本机关决定不予提前移出。你单位符合条件后可以再次申请。如不服本决定,可以自收到本决定书之日起六十日内向{o.ReviewBody}申请行政复议,或者自收到本决定书之日起六个月内向{o.Court}提起行政诉讼。"),
            PartyFields(c),
        ],
        o.Authority, on);

    public Doc RemovalReminder(RemovalApplication a, DateOnly today) => new(
        "欠薪失信名单提前移出申请决定期限提醒",
        null,
        "劳动保障监察人员",
        [
            new Para($"案件 {a.CaseNo} 的当事人于{D(a.AppliedOn)}申请提前移出名单,应于{D(a.DueOn)}前作出决定(收到申请之日起{o.RemovalDecisionWorkingDays}个工作日),请及时办理。"),
        ],
        o.Authority, today);

    public Doc StaffReminder(CaseView c, DateOnly today, DateOnly? earliest) => new(
        "欠薪失信名单列入决定期限提醒",
        null,
        "劳动保障监察人员",
        [
            new Para($"案件 {c.CaseNo}({c.EmployerName})的列入决定期限为{D(c.DecisionDueOn)}(支付期限届满后{o.DecisionWorkingDays}个工作日),尚未作出决定,请及时办理。"),
            new Fields([
                ("案件编号", c.CaseNo),
                ("当事人", c.EmployerName ?? "(用人单位名录中无此单位)"),
                ("统一社会信用代码", c.Uscc),
                ("当前环节", ProcedureLifecycle.Label(c.State)),
                ("告知书发出日期", D(c.NoticeSentOn)),
                ("送达日期", D(c.ServedOn)),
                ("陈述申辩截止日", D(c.StatementDueOn)),
                ("收到陈述申辩日期", D(c.StatementReceivedOn)),
                ("最早可作出决定日期", D(earliest)),
                ("决定期限", D(c.DecisionDueOn) + (c.DecisionDueCalendarMissing ? "(超出已导入的工作日历,仅按周末计算,请核对)" : "")),
            ]),
        ],
        o.Authority, today);

    public sealed class DigestLine
    {
        public string Kind { get; set; } = "";
        public string EmployerName { get; set; } = "";
        public string Uscc { get; set; } = "";
        public string? LegalRepName { get; set; }
        public string? LegalRepIdNumber { get; set; }
        public string ResponsiblePersons { get; set; } = "";
        public string CaseNo { get; set; } = "";
        public DateOnly? DecidedOn { get; set; }
        public DateOnly? ListedUntil { get; set; }
        public string? DecisionReason { get; set; }
        public DateOnly? RemovedOn { get; set; }
        public string? RemovalKind { get; set; }
    }

    // Listed and listed again (an early removal revoked) go into the first table.
    public Doc PartnerDigest(DateOnly on, IReadOnlyList<DigestLine> lines) => new(
        $"拖欠农民工工资失信联合惩戒对象名单变动通报({D(on)})",
        null,
        "各联合惩戒成员单位、信用信息共享平台",
        [
            new Para($"现将本机关新列入和移出拖欠农民工工资失信联合惩戒对象名单的当事人通报如下,请依据{Rules}及时实施或停止实施联合惩戒。"),
            new Heading("一、新列入(含恢复列入)名单"),
            new Table(["当事人", "统一社会信用代码", "法定代表人", "身份证号码", "直接责任人员", "列入事由", "列入期限"],
                lines.Where(l => l.Kind != ProcedureLifecycle.Table.Db(ProcedureState.Removed)).Select(l => (IReadOnlyList<string>)[
                    l.EmployerName, l.Uscc, l.LegalRepName ?? "", IdNumber.Mask(l.LegalRepIdNumber), l.ResponsiblePersons,
                    (l.Kind == "removal_revoked" ? "(撤销提前移出,恢复列入)" : "") + (l.DecisionReason ?? ""),
                    $"{D(l.DecidedOn)}至{D(l.ListedUntil?.AddDays(-1))}"]).ToList()),
            new Heading("二、移出名单"),
            new Table(["当事人", "统一社会信用代码", "法定代表人", "身份证号码", "移出日期", "移出原因"],
                lines.Where(l => l.Kind == ProcedureLifecycle.Table.Db(ProcedureState.Removed)).Select(l => (IReadOnlyList<string>)[
                    l.EmployerName, l.Uscc, l.LegalRepName ?? "", IdNumber.Mask(l.LegalRepIdNumber), D(l.RemovedOn), RemovalZh(l.RemovalKind)]).ToList()),
        ],
        o.Authority, on);

    public static string RemovalZh(string? kind) => kind switch
    {
        "expired" => "期限届满",
        "repaired" => "信用修复提前移出",
        "overturned" => "列入决定被撤销",
        _ => kind ?? "",
    };
}
