using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Notifications;

public static class NotificationsSetup
{
    public static WebApplicationBuilder AddNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        builder.Services.AddSingleton<OutboxDelivery>();
        builder.Services.AddSingleton<OutboxView>();
        builder.Services.AddSingleton<IHomeWork, OutboxHomeWork>();
        builder.Services.AddSingleton<OutboxAlerts>();
        builder.Services.AddSingleton<OutboxRequeue>();
        builder.Services.AddSingleton<IOutboxSignal, OutboxTrigger>();
        builder.AddRecurringJob<OutboxDeliveryJob>(OutboxDeliveryJob.Id, "发送待发邮件", "* * * * *");
        builder.AddDashboardPage(OutboxPage.Path, "邮件发送", Roles.Admin, Roles.Operator);
        return builder;
    }

    public static WebApplication MapNotifications(this WebApplication app)
    {
        OutboxPage.Map(app);
        return app;
    }
}
