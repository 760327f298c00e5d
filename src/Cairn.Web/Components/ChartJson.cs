using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Web.Components;

/// <summary>JSON for chart options: ECharts' camelCase names, no nulls, NaN and infinities as strings ECharts skips.</summary>
internal static class ChartJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
