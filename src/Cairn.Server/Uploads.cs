using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Cairn.Server;

/// <summary>The size rule for upload routes, whose bodies may be far larger than the server's default request limit.</summary>
internal static class Uploads
{
    /// <summary>
    /// Raises this request's body limit to <paramref name="maxBytes"/>, and refuses at once (413) a body that says it is
    /// larger, before any of it is read; a body without a length is cut off at the limit as it streams.
    /// </summary>
    public static void Limit(HttpContext http, long maxBytes, string what, string option)
    {
        if (http.Request.ContentLength is { } length && length > maxBytes)
        {
            throw new BadHttpRequestException(string.Create(CultureInfo.InvariantCulture,
                $"The {what} is {length:N0} bytes; this server takes at most {maxBytes:N0} (set with {option})."), StatusCodes.Status413PayloadTooLarge);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }
    }
}
