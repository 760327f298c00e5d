using Cairn.Core;

namespace Cairn.Adapters.S3;

/// <summary>Where artifacts live in S3: <c>s3://bucket/prefix</c>, and the endpoint of an S3-compatible server if not AWS.</summary>
/// <param name="Bucket">The bucket, which must exist.</param>
/// <param name="Prefix">The key prefix under which Cairn's objects go ("" for the bucket's root).</param>
/// <param name="Endpoint">An S3-compatible server's URL (MinIO, Ceph, moto...); null for AWS itself.</param>
/// <param name="Region">The region to sign requests for.</param>
public sealed record S3ArtifactLocation(string Bucket, string Prefix, Uri? Endpoint, string Region)
{
    /// <summary>The environment variable naming an S3-compatible endpoint.</summary>
    public const string EndpointVariable = "CAIRN_S3_ENDPOINT";

    /// <summary>Whether <paramref name="location"/> names an S3 bucket rather than a local folder.</summary>
    public static bool IsS3(string? location) => location?.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// Parses <c>s3://bucket/prefix</c>; the endpoint comes from CAIRN_S3_ENDPOINT (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL),
    /// the region from AWS_REGION (else us-east-1). Credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID...).
    /// </summary>
    public static S3ArtifactLocation Parse(string location, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!IsS3(location) || !Uri.TryCreate(location, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw CairnException.Invalid($"'{location}' is not an S3 location; use s3://bucket/prefix.");
        }

        var endpointText = environment(EndpointVariable) ?? environment("AWS_ENDPOINT_URL_S3") ?? environment("AWS_ENDPOINT_URL");
        Uri? endpoint = null;
        if (!string.IsNullOrEmpty(endpointText) &&
            (!Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https")))
        {
            throw CairnException.Invalid($"The S3 endpoint '{endpointText}' is not an http:// or https:// URL.");
        }

        return new S3ArtifactLocation(uri.Host, Uri.UnescapeDataString(uri.AbsolutePath.Trim('/')), endpoint, environment("AWS_REGION") ?? "us-east-1");
    }

    /// <inheritdoc />
    public override string ToString() => $"s3://{Bucket}/{Prefix}".TrimEnd('/') + (Endpoint is null ? "" : $" at {Endpoint.GetLeftPart(UriPartial.Authority)}");
}
