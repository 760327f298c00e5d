using Cairn.Core;
using Cairn.Core.Monitoring;
using Cairn.Core.Ports;

namespace Cairn.Application;

/// <summary>How alert notifications are retried.</summary>
/// <param name="FirstRetry">The wait after the first failed attempt; it doubles after each further one.</param>
/// <param name="LongestWait">The longest wait between attempts.</param>
/// <param name="MaxAttempts">Attempts before the alert is marked failed (it stays in the history).</param>
public sealed record AlertDeliveryOptions(TimeSpan FirstRetry, TimeSpan LongestWait, int MaxAttempts)
{
    /// <summary>5 s, doubling up to 10 minutes, 10 attempts: about 40 minutes of retrying.</summary>
    public static AlertDeliveryOptions Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10), 10);
}

/// <summary>
/// Delivers alerts from the store's outbox to the monitor's webhooks, off the serving path: an attempt that fails
/// or times out is retried with exponential backoff until delivered or given up. Every webhook gets every attempt,
/// so a receiver should de-duplicate by alert id.
/// </summary>
public sealed class AlertDispatcher(IMonitoringStore store, INotifier notifier, TimeProvider time, AlertDeliveryOptions options)
{
    /// <summary>Tries every alert that is due; returns how many were delivered.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        foreach (var alert in await store.DueAlertsAsync(time.GetUtcNow(), 100, cancellationToken).ConfigureAwait(false))
        {
            var webhooks = (await store.GetMonitorAsync(alert.Deployment, cancellationToken).ConfigureAwait(false))?.Spec.Webhooks ?? [];
            var errors = new List<string>();
            foreach (var webhook in webhooks)
            {
                try
                {
                    await notifier.SendAsync(webhook, alert, cancellationToken).ConfigureAwait(false);
                }
                catch (CairnException e)
                {
                    errors.Add(e.Message);
                }
            }

            var attempts = alert.Attempts + 1;
            if (errors.Count == 0)
            {
                await store.UpdateAlertAsync(alert.Id, AlertStatus.Delivered, attempts, null, null, cancellationToken).ConfigureAwait(false);
                delivered++;
            }
            else if (attempts >= options.MaxAttempts)
            {
                await store.UpdateAlertAsync(alert.Id, AlertStatus.Failed, attempts, null, string.Join(" ", errors), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var wait = TimeSpan.FromTicks(Math.Min(options.LongestWait.Ticks, options.FirstRetry.Ticks << Math.Min(attempts - 1, 30)));
                await store.UpdateAlertAsync(alert.Id, AlertStatus.Pending, attempts, time.GetUtcNow() + wait, string.Join(" ", errors), cancellationToken)
                    .ConfigureAwait(false);
            }
        }

        return delivered;
    }
}
