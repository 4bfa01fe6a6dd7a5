using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;

namespace Lingyuan.Jobs.Registers;

public static class RegistersSetup
{
    /// <summary>The registers: <c>import KIND FILE</c> for every register kind (<c>seed-demo</c> is tools/Lingyuan.Jobs.Demo).</summary>
    public static WebApplicationBuilder AddRegisters(this WebApplicationBuilder builder)
    {
        foreach (var kind in RegisterKinds.All) builder.Services.AddImportKind(kind);
        builder.Services.AddSingleton(sp => new ImportKinds(sp.GetServices<ImportKind>()));
        builder.Services.AddSingleton<RegisterImporter>();
        builder.Services.AddCommand<ImportCommand>();
        return builder;
    }
}
