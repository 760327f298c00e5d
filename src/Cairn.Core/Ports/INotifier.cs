using Cairn.Core.Monitoring;

namespace Cairn.Core.Ports;

/// <summary>Sends an alert to one webhook; throws when the endpoint did not take it (the caller retries).</summary>
public interface INotifier
{
    /// <summary>Delivers <paramref name="alert"/> to <paramref name="target"/>.</summary>
    Task SendAsync(WebhookTarget target, Alert alert, CancellationToken cancellationToken);
}
