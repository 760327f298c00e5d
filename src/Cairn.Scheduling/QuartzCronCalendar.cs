using Cairn.Core;
using Cairn.Core.Ports;
using Quartz;

namespace Cairn.Scheduling;

/// <summary>Cron expressions as pipeline schedules read them (five Unix fields, or Quartz's six or seven), in UTC.</summary>
public sealed class QuartzCronCalendar : ICronCalendar
{
    /// <inheritdoc />
    public string? Problem(string expression)
    {
        try
        {
            PipelineScheduler.ToQuartzCron(expression);
            return null;
        }
        catch (CairnException e)
        {
            return e.Message;
        }
    }

    /// <inheritdoc />
    public DateTimeOffset? NextAfter(string expression, DateTimeOffset after) =>
        new CronExpression(PipelineScheduler.ToQuartzCron(expression), TimeZoneInfo.Utc).GetNextValidTimeAfter(after);
}
