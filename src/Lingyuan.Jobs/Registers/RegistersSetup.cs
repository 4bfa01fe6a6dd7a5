using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Registers.Upload;

namespace Lingyuan.Jobs.Registers;

public static class RegistersSetup
{
    /// <summary>The registers: <c>import KIND FILE</c> for every register kind (<c>seed-demo</c> is tools/Lingyuan.Jobs.Demo), and the upload page.</summary>
    public static WebApplicationBuilder AddRegisters(this WebApplicationBuilder builder)
    {
        // The holiday calendar is the Calendar's kind (CalendarSetup): its import checks each year's working days.
        foreach (var kind in RegisterKinds.All.Where(k => !ReferenceEquals(k, RegisterKinds.Holidays))) builder.Services.AddImportKind(kind);
        builder.Services.AddSingleton(sp => new ImportKinds(sp.GetServices<ImportKind>()));
        builder.Services.AddSingleton<RegisterImporter>();
        builder.Services.AddCommand<ImportCommand>();

        builder.Services.AddOptions<RegisterUploadOptions>().BindConfiguration("Registers")
            .Validate(o => o.MaxUploadBytes is >= 1024 * 1024 and <= 16L * 1024 * 1024 * 1024,
                "Registers:MaxUploadBytes must be between 1 MB and 16 GB / 名录上传文件大小上限应在 1 MB 到 16 GB 之间")
            .ValidateOnStart();
        builder.Services.AddSingleton<RegisterUploads>();
        builder.Services.AddSingleton<RegisterView>();
        builder.Services.AddTransient<RegisterUploadJob>();
        builder.AddDashboardPage(RegisterUploadPage.Path, "名录导入", RegisterUploadPage.ViewRoles);
        return builder;
    }

    public static WebApplication MapRegisters(this WebApplication app)
    {
        RegisterUploadPage.Map(app);
        return app;
    }
}
