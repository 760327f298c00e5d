using Cairn.Application;
using Cairn.Application.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cairn.Server;

/// <summary>
/// Monitoring inside the server: runs the recorder (which serving feeds as one of its observers), and on a timer evaluates closed
/// windows of every monitor, applies log retention and delivers due alerts; beside that, on the same timer, runs
/// retraining policies whose trigger fired and watches their canaries. Stopping flushes what was recorded.
/// </summary>
internal sealed partial class MonitoringHost(
    PredictionRecorder recorder, MonitorService monitors, AlertDispatcher alerts, PolicyRunner policies, CairnServerOptions options,
    ILogger<MonitoringHost> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        monitors.AlertFired += alert => Log.AlertFired(logger, alert.Deployment, alert.Rule, alert.Message);
        var recording = Task.Run(() => recorder.RunAsync(stoppingToken), CancellationToken.None);
        // Retraining takes minutes; it runs beside evaluation, never holding it up.
        var looping = Task.Run(() => RunPoliciesAsync(stoppingToken), CancellationToken.None);
        using var timer = new PeriodicTimer(options.MonitorInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    foreach (var failure in await monitors.EvaluateAllAsync(stoppingToken).ConfigureAwait(false))
                    {
                        Log.EvaluationFailed(logger, failure);
                    }

                    await alerts.DeliverDueAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.EvaluationFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await recording.ConfigureAwait(false);
        await looping.ConfigureAwait(false);
    }

    private async Task RunPoliciesAsync(CancellationToken stoppingToken)
    {
        var progress = new Progress<string>(line => Log.PolicyStep(logger, line));
        using var timer = new PeriodicTimer(options.MonitorInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await policies.TickAsync(progress, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.EvaluationFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Alert {Rule} on deployment {Deployment}: {Message}")]
        public static partial void AlertFired(ILogger logger, string deployment, string rule, string message);

        [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Monitoring failed: {Reason}")]
        public static partial void EvaluationFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "Policy: {Step}")]
        public static partial void PolicyStep(ILogger logger, string step);
    }
}
