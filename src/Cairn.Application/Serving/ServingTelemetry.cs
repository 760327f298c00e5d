using System.Diagnostics;

namespace Cairn.Application.Serving;

/// <summary>
/// Serving's OpenTelemetry traces: a <c>cairn.predict</c> span per request (queue wait and scoring) and a
/// <c>cairn.batch</c> span per model call, linked to the requests it scored together.
/// </summary>
public static class ServingTelemetry
{
    /// <summary>The activity source to subscribe to.</summary>
    public const string SourceName = "Cairn.Serving";

    /// <summary>Where serving's spans come from; starting one costs nothing while nobody listens.</summary>
    public static ActivitySource Source { get; } = new(SourceName);
}
