using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;
using Fluid.Values;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.Bench.Mail;

/// <summary>Subject, plain text and HTML of one mail, rendered from a template and a model.</summary>
public sealed record RenderedMail(string Subject, string TextBody, string HtmlBody);

/// <summary>
/// Mail templates of the mail benchmark (the service builds its mails in code, e.g. <c>AssignmentMail</c>):
/// Liquid (Fluid) files embedded in this assembly, three per mail under <c>Mail/Templates/</c>:
/// <c>{name}.subject.liquid</c>, <c>{name}.text.liquid</c>, <c>{name}.html.liquid</c>. In the HTML body every <c>{{ value }}</c>
/// is HTML-encoded, so names from the registers cannot inject markup; subject and text are plain.
/// Model properties are named in snake_case in templates (<c>RecipientName</c> → <c>{{ recipient_name }}</c>).
/// Filters: <c>mask_id</c> (211382********123X), <c>mask_account</c> (6217********1234), <c>yuan</c> (fen → 1,234.56).
/// </summary>
public static class MailTemplates
{
    private static readonly FluidParser Parser = new();
    private static readonly ConcurrentDictionary<string, (IFluidTemplate Subject, IFluidTemplate Text, IFluidTemplate Html)> Cache = new();

    // Encodes &, <, >, quotes; keeps Chinese readable in the source (the body is UTF-8 anyway).
    private static readonly HtmlEncoder HtmlOut = HtmlEncoder.Create(UnicodeRanges.All);

    private static readonly TemplateOptions Options = CreateOptions();

    private static TemplateOptions CreateOptions()
    {
        var o = new TemplateOptions
        {
            // Templates are ours (embedded, reviewed), models are plain records of the feature: reading
            // any public property of the model is intended. Values are still encoded on output.
            MemberAccessStrategy = new UnsafeMemberAccessStrategy { MemberNameStrategy = MemberNameStrategies.SnakeCase },
            CultureInfo = CultureInfo.GetCultureInfo("zh-CN"),
            TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"),
        };
        o.Filters.AddFilter("mask_id", (input, _, _) => new StringValue(IdNumber.Mask(input.ToStringValue())));
        o.Filters.AddFilter("mask_account", (input, _, _) => new StringValue(BankAccount.Mask(input.ToStringValue())));
        o.Filters.AddFilter("yuan", (input, _, _) => new StringValue(((decimal)(long)input.ToNumberValue() / 100m).ToString("#,##0.00", CultureInfo.InvariantCulture)));
        return o;
    }

    /// <summary>Renders the template <paramref name="name"/> with <paramref name="model"/> (its public properties are the template's variables).</summary>
    public static RenderedMail Render(string name, object model)
    {
        var (subject, text, html) = Cache.GetOrAdd(name, Load);
        var subjectText = subject.Render(Context(model), NullEncoder.Default);
        // A header is one line: a model value with a line break must not start a new header.
        subjectText = string.Join(' ', subjectText.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return new RenderedMail(
            subjectText,
            text.Render(Context(model), NullEncoder.Default),
            html.Render(Context(model), HtmlOut));
    }

    /// <summary>The outbox message for a rendered template; pass it to <see cref="Outbox.EnqueueAsync"/> in the feature's transaction.</summary>
    public static OutboxMessage Message(
        string name, object model, string dedupeKey, IReadOnlyList<string> recipients,
        string regardingType, string regardingId, IReadOnlyList<MailAttachment>? attachments = null)
    {
        var mail = Render(name, model);
        return new OutboxMessage(dedupeKey, recipients, mail.Subject, mail.TextBody, mail.HtmlBody, regardingType, regardingId, attachments);
    }

    private static TemplateContext Context(object model) => new(model, Options);

    private static (IFluidTemplate, IFluidTemplate, IFluidTemplate) Load(string name) =>
        (Parse(name, "subject"), Parse(name, "text"), Parse(name, "html"));

    private static IFluidTemplate Parse(string name, string part)
    {
        var asm = typeof(MailTemplates).Assembly;
        var suffix = $".{name}.{part}.liquid";
        var matches = asm.GetManifestResourceNames().Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).ToList();
        if (matches.Count != 1)
            throw new InvalidOperationException(matches.Count == 0
                ? $"mail template '{name}{suffix[(name.Length + 1)..]}' is not embedded (expected a file named {name}.{part}.liquid)"
                : $"mail template '{name}.{part}.liquid' exists {matches.Count} times: {string.Join(", ", matches)}");
        using var stream = asm.GetManifestResourceStream(matches[0])!;
        using var reader = new StreamReader(stream);
        var source = reader.ReadToEnd();
        return Parser.TryParse(source, out var template, out var error)
            ? template
            : throw new InvalidOperationException($"mail template {name}.{part}.liquid: {error}");
    }
}
