using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Monitoring;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Webhooks;

/// <summary>
/// Posts alerts as JSON. With a secret, each body is signed: the header <c>Cairn-Signature: t=UNIX_SECONDS,v1=HEX</c>
/// carries HMAC-SHA256 over <c>"{t}.{body}"</c>, so a receiver can check who sent it and reject replays.
/// The secret is read from the server's environment at send time and never written anywhere.
/// </summary>
public sealed class WebhookNotifier(HttpClient http, Func<string, string?> environment, TimeProvider time) : INotifier
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "Cairn-Signature";

    /// <summary>How long one attempt may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public async Task SendAsync(WebhookTarget target, Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(alert);
        var body = Body(alert);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (target.SecretEnv is { } variable)
        {
            var secret = environment(variable);
            if (string.IsNullOrEmpty(secret))
            {
                throw new CairnException(ErrorCode.InvalidArgument, $"The webhook's secret variable {variable} is not set on this server.");
            }

            request.Headers.Add(SignatureHeader, Sign(secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new CairnException(ErrorCode.Unavailable, $"{Host(target)} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CairnException(ErrorCode.Unavailable, $"{Host(target)} did not answer within {Timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            throw new CairnException(ErrorCode.Unavailable, $"{Host(target)} could not be reached: {e.Message}");
        }
    }

    /// <summary>The signature header's value for a body sent at <paramref name="unixSeconds"/>.</summary>
    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var stamp = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var signed = new byte[stamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(stamp, signed);
        signed[stamp.Length] = (byte)'.';
        body.CopyTo(signed.AsSpan(stamp.Length + 1));
        return $"t={stamp},v1={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed))}";
    }

    /// <summary>The JSON an alert is posted as.</summary>
    public static byte[] Body(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("id", alert.Id);
            w.WriteString("deployment", alert.Deployment);
            w.WriteString("rule", alert.Rule);
            w.WriteString("metric", alert.Metric);
            w.WriteNumber("value", alert.Value);
            w.WriteNumber("threshold", alert.Threshold);
            w.WriteString("window_start", alert.WindowStart);
            w.WriteString("fired_at", alert.FiredAt);
            w.WriteString("message", alert.Message);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    // Error messages name the host only: a webhook URL's path or query may carry a token.
    private static string Host(WebhookTarget target) => Uri.TryCreate(target.Url, UriKind.Absolute, out var uri) ? $"Webhook {uri.Scheme}://{uri.Authority}" : "The webhook";
}
