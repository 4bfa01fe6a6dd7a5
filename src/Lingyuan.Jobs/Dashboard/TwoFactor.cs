using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using OtpNet;
using QRCoder;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// Time-based one-time codes (RFC 6238, 6 digits, 30 s; Otp.NET). Secrets are stored encrypted with
/// the deployment's Data Protection key ring; a code is accepted once: the step it matched is
/// stored on the account and a code of that step or an earlier one is refused afterwards.
/// </summary>
public sealed class TwoFactor(IDataProtectionProvider dp, TimeProvider clock, IOptions<DashboardOptions> options)
{
    public const string Issuer = "凌源市人社局定时任务";
    private readonly IDataProtector _protector = dp.CreateProtector("Lingyuan.Jobs.Dashboard.Totp.v1");

    public bool RoleNeedsIt(string role) =>
        options.Value.EffectiveTwoFactorRoles.Contains(role, StringComparer.OrdinalIgnoreCase);

    public static string NewSecret() => Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(20));

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string stored) => _protector.Unprotect(stored);

    /// <summary>The time step a code matches (the current one, or one either side for clock drift), or null.</summary>
    public long? Match(string secretBase32, string? code)
    {
        code = code?.Trim().Replace(" ", "", StringComparison.Ordinal);
        if (code is null || code.Length != 6 || !code.All(char.IsAsciiDigit)) return null;
        var totp = new Totp(Base32Encoding.ToBytes(secretBase32));
        return totp.VerifyTotp(clock.GetUtcNow().UtcDateTime, code, out var step, VerificationWindow.RfcSpecifiedNetworkDelay)
            ? step : null;
    }

    /// <summary>The code of a secret at a moment (for tests and the demo).</summary>
    public static string Code(string secretBase32, DateTimeOffset at) =>
        new Totp(Base32Encoding.ToBytes(secretBase32)).ComputeTotp(at.UtcDateTime);

    public static string OtpAuthUri(string userName, string secretBase32) =>
        $"otpauth://totp/{Uri.EscapeDataString(Issuer)}:{Uri.EscapeDataString(userName)}?secret={secretBase32}&issuer={Uri.EscapeDataString(Issuer)}&digits=6&period=30";

    public static string QrPngDataUri(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(5);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
