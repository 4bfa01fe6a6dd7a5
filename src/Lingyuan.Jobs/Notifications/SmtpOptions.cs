using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Lingyuan.Jobs.Notifications;

/// <summary>How the connection to the SMTP server is secured (section <c>Smtp</c>, key <c>Security</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>Plain text: only for a server on loopback (local runs, tests).</summary>
    None,
    /// <summary>STARTTLS, required: refuse a server that does not offer it.</summary>
    StartTls,
    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,
    /// <summary>MailKit decides from the port (465 → TLS, otherwise STARTTLS when offered).</summary>
    Auto,
}

/// <summary>The outgoing mail server and the delivery policy (section <c>Smtp</c>).</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 2525;
    public SmtpSecurity Security { get; set; } = SmtpSecurity.None;
    /// <summary>Account for AUTH; empty = no authentication. Set both or neither.</summary>
    public string? User { get; set; }
    public string? Password { get; set; }
    /// <summary>Sender, e.g. <c>凌源市人力资源和社会保障局 &lt;jobs@lingyuan-hrss.local&gt;</c>; its domain also names the Message-Ids.</summary>
    public string From { get; set; } = "凌源市人力资源和社会保障局 <jobs@lingyuan-hrss.local>";

    /// <summary>Connecting (TCP + greeting + TLS + AUTH) may take this long before the server counts as down.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Each SMTP command (including DATA) may take this long.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait after a transient failure; doubles with each further one (with jitter).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>The wait between attempts never grows beyond this.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);
    /// <summary>A message still failing transiently this long after it was queued is marked failed.</summary>
    public TimeSpan RetryHorizon { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Messages sent over one connection before it is closed and a new one opened; 0 = no limit.
    /// Some servers limit messages per connection; 1 = reconnect for every message (the bench's bound).
    /// </summary>
    public int MaxMessagesPerConnection { get; set; }

    /// <summary>Messages read from the outbox per query.</summary>
    public int BatchSize { get; set; } = 50;

    public SecureSocketOptions SocketOptions => Security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };

    public MailboxAddress FromAddress => MailboxAddress.Parse(From);

    /// <summary>The domain of the sender's address: the right-hand side of every Message-Id.</summary>
    public string MessageIdDomain => FromAddress.Domain;
}

public sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions o)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Host)) problems.Add("Smtp:Host must be set / 未配置邮件服务器地址");
        if (o.Port is < 1 or > 65535) problems.Add($"Smtp:Port must be 1-65535, got {o.Port} / 端口无效");
        if (!Enum.IsDefined(o.Security)) problems.Add($"Smtp:Security must be None, StartTls, SslOnConnect or Auto, got '{o.Security}' / 加密方式无效");
        if (string.IsNullOrEmpty(o.User) != string.IsNullOrEmpty(o.Password))
            problems.Add("Smtp:User and Smtp:Password must be set together / 用户名和密码须同时配置");
        if (!MailboxAddress.TryParse(o.From, out var from) || string.IsNullOrEmpty(from.Domain))
            problems.Add($"Smtp:From must be a mail address such as 名称 <jobs@example.cn>, got '{o.From}' / 发件人地址无效");
        Positive(o.ConnectTimeout, "Smtp:ConnectTimeout");
        Positive(o.CommandTimeout, "Smtp:CommandTimeout");
        Positive(o.RetryBaseDelay, "Smtp:RetryBaseDelay");
        if (o.RetryMaxDelay < o.RetryBaseDelay) problems.Add("Smtp:RetryMaxDelay must be at least Smtp:RetryBaseDelay / 最大重试间隔不能小于初始间隔");
        Positive(o.RetryHorizon, "Smtp:RetryHorizon");
        if (o.MaxMessagesPerConnection < 0) problems.Add($"Smtp:MaxMessagesPerConnection must be 0 (no limit) or more, got {o.MaxMessagesPerConnection} / 每连接邮件数无效");
        if (o.BatchSize is < 1 or > 10_000) problems.Add($"Smtp:BatchSize must be 1-10000, got {o.BatchSize} / 批量大小无效");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);

        void Positive(TimeSpan t, string key)
        {
            if (t <= TimeSpan.Zero) problems.Add($"{key} must be a positive time span such as 00:01:00, got {t} / 必须为正的时间间隔");
        }
    }
}
