using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Calendar;

/// <summary>
/// <c>/hangfire/holidays</c> (节假日安排): the loaded years with their working days, the days of a year, and two ways
/// to load a year: upload the file (CSV or XLSX; through the register upload page, checked before it is imported) or
/// enter the days here. Every deadline counts working days, so whoever keeps deadlines may load the calendar (admin,
/// inspection for arrears and inspection deadlines, finance for payment dates); operators read it. Each year must end
/// with a plausible number of working days (<see cref="HolidayOptions"/>), or nothing is imported. No SQL here.
/// </summary>
public static class HolidaysPage
{
    public const string Path = "holidays";
    private const string Root = "/hangfire/" + Path;
    public static readonly string[] ViewRoles = [Roles.Admin, Roles.Operator, Roles.Finance, Roles.Inspection];
    public static readonly string[] EditRoles = [Roles.Admin, Roles.Finance, Roles.Inspection];

    public static void Map(WebApplication app)
    {
        app.MapGet(Root, ShowAsync).RequireAuthorization(new AuthorizeAttribute { Roles = string.Join(",", ViewRoles) });
        app.MapPost(Root + "/enter", EnterAsync).RequireAuthorization(new AuthorizeAttribute { Roles = string.Join(",", EditRoles) });
    }

    private static async Task<IResult> ShowAsync(HttpContext ctx, HolidayCalendar calendar, BureauClock clock, IOptions<HolidayOptions> options, int? year, CancellationToken ct) =>
        year is < 1900 or > 2999
            ? Layout.Page(ctx, "节假日安排", Html.Of($"""<p class="error" role="alert">年份无效。</p><p><a href="{Root}">返回节假日安排</a></p>"""), StatusCodes.Status400BadRequest)
            : await RenderAsync(ctx, calendar, clock, options, year, null, null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> RenderAsync(
        HttpContext ctx, HolidayCalendar calendar, BureauClock clock, IOptions<HolidayOptions> options, int? year,
        Html? message, string? entered, int status, CancellationToken ct)
    {
        var o = options.Value;
        var years = await calendar.YearsAsync(ct);
        var missing = await calendar.MissingYearsAsync(ct);
        var shown = year ?? years.FirstOrDefault()?.Year;
        var days = shown is { } y ? await calendar.DaysAsync(y, ct) : [];
        var canEdit = ctx.User.IsAny(EditRoles);
        var next = clock.Today.Year + 1;
        var body = Html.Of($"""
            {message ?? Html.Empty}
            {missing.Select(m => Html.Of($"""<p class="warn missing-year" role="alert">{m}年节假日安排尚未导入。</p>"""))}
            <p>工作日 = 周一至周五,减去放假日,加上调休上班的周末。每年全年工作日应在 {o.MinWorkingDays}–{o.MaxWorkingDays} 个之间,否则不予导入。</p>
            <table id="calendar-years">
            <tr><th>年份</th><th>放假天数</th><th>调休上班天数</th><th>全年工作日</th></tr>
            {years.Select(c => Html.Of($"""
                <tr id="year-{c.Year}"><td><a href="{Root}?year={c.Year}">{c.Year}</a></td><td class="num">{c.Holidays}</td><td class="num">{c.Workdays}</td>
                <td class="num working-days" data-value="{c.WorkingDays}">{c.WorkingDays}</td></tr>
                """))}
            </table>
            {(shown is { } sy ? Html.Of($"""
                <h2>{sy}年的放假与调休上班日</h2>
                <p id="calendar-days">{Html.Join(days.Select(d => Html.Of($"{d.Date:yyyy-MM-dd} {(d.Kind == "holiday" ? "放假" : "上班")}; ")))}</p>
                """) : Html.Empty)}
            {(!canEdit ? Html.Empty : Html.Of($"""
                <h2>上传节假日文件</h2>
                <p>CSV 或 Excel(.xlsx),两列:日期(date,YYYY-MM-DD)、类型(kind:holiday 放假 / workday 调休上班),只列与"周一至周五上班"不同的日子。
                <a href="/hangfire/registers/templates/holidays" id="holiday-template">下载模板</a>。上传后先检查,确认后导入。</p>
                <form method="post" action="/hangfire/registers/upload" enctype="multipart/form-data" id="holiday-upload">
                  {Layout.AntiforgeryField(ctx)}
                  <input type="hidden" name="kind" value="holidays">
                  <input type="file" name="file" id="holiday-file" accept=".csv,.xlsx" required>
                  <button type="submit" id="holiday-upload-submit">上传并检查</button>
                </form>
                <h2>直接录入</h2>
                <form method="post" action="{Root}/enter" id="holiday-enter">
                  {Layout.AntiforgeryField(ctx)}
                  <p>每行一天:日期 类型,类型写"放假"或"上班"(也可写 holiday / workday),例如 <code>{next}-01-01 放假</code>。录入的日子与已有的合并;全年工作日不在范围内则不予保存。</p>
                  <textarea name="holiday_days" rows="12" cols="40" id="holiday-days">{entered ?? ""}</textarea>
                  <p><button type="submit" id="holiday-enter-submit">检查并保存</button></p>
                </form>
                """))}
            """);
        return Layout.Page(ctx, "节假日安排", body, status);
    }

    private static string? HolidayHeader(string column) =>
        Registers.Import.RegisterKinds.Holidays.Columns.FirstOrDefault(c => c.Name == column)?.Chinese;

    /// <summary>Days typed on the page go through the holidays import (the same rules, check and audit), as the person who typed them.</summary>
    private static async Task<IResult> EnterAsync(
        HttpContext ctx, HolidayCalendar calendar, BureauClock clock, IOptions<HolidayOptions> options, RegisterImporter importer, CancellationToken ct)
    {
        var form = await ctx.Request.ReadFormAsync(ct);
        var text = form["holiday_days"].ToString();
        var csv = new StringBuilder("date,kind\n");
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Trim().Split([' ', '\t', ',', ',', '、'], 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 0) { csv.Append('\n'); continue; } // keeps line numbers: row N of the problems is line N-1 typed
            var kind = parts.Length < 2 ? "" : parts[1] switch { "放假" or "休" => "holiday", "上班" or "班" or "调休上班" => "workday", var k => k };
            csv.Append(Quote(parts[0])).Append(',').Append(Quote(kind)).Append('\n');
        }
        var path = System.IO.Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, csv.ToString(), new UTF8Encoding(false), ct);
            var result = await importer.ImportAsync(
                new ImportRequest("holidays", path, Actor: ctx.User.Identity!.Name!) { FileName = "录入" }, TextWriter.Null, ct);
            var ok = Html.Of($"""<p class="ok" id="holiday-saved">已保存:新增 {result.Inserted} 天,修改 {result.Updated} 天,不变 {result.Unchanged} 天。</p>""");
            return await RenderAsync(ctx, calendar, clock, options, null, ok, null, StatusCodes.Status200OK, ct);
        }
        catch (BadInputException ex)
        {
            var problems = Html.Of($"""
                <div class="error" role="alert" id="holiday-problems"><p>未保存,请修改后重试(行号从第 2 行算起,对应录入的第 1 行):</p>
                <ul>{ex.Problems.Select(p => Html.Of($"<li>{Registers.Import.ProblemTextZh.Zh(p, HolidayHeader)}</li>"))}</ul></div>
                """);
            return await RenderAsync(ctx, calendar, clock, options, null, problems, text, StatusCodes.Status400BadRequest, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Quote(string s) => s.Contains('"') || s.Contains(',') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
