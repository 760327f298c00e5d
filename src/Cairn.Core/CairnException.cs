namespace Cairn.Core;

/// <summary>What kind of failure a <see cref="CairnException"/> reports; hosts map it to an HTTP status and an exit code.</summary>
public enum ErrorCode
{
    /// <summary>The caller's input is malformed or breaks a rule.</summary>
    InvalidArgument,

    /// <summary>A named thing (dataset, run, model, alias, file) does not exist.</summary>
    NotFound,

    /// <summary>The request conflicts with the current state.</summary>
    Conflict,

    /// <summary>Something with that name or key already exists.</summary>
    AlreadyExists,

    /// <summary>Stored data failed an integrity check.</summary>
    Corrupt,

    /// <summary>A dependency is not ready yet; retrying later may succeed.</summary>
    Unavailable,

    /// <summary>The server has more work than it admits; retrying after a pause may succeed.</summary>
    Overloaded,

    /// <summary>The request's body is not of a type the endpoint reads.</summary>
    UnsupportedMediaType,

    /// <summary>The caller did not prove who it is: no credentials, or ones that are malformed, unknown, expired or revoked.</summary>
    Unauthenticated,

    /// <summary>The caller is known but may not do this.</summary>
    PermissionDenied,

    /// <summary>Too many failed sign-ins; retrying after a pause may succeed.</summary>
    Throttled,

    /// <summary>Something failed that is not the caller's doing (a store error other than an outage); reported without detail to remote callers.</summary>
    Internal,
}

/// <summary>The one exception family of Cairn: an expected failure with a machine-readable code and a message for people.</summary>
public sealed class CairnException(ErrorCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The machine-readable kind of failure.</summary>
    public ErrorCode Code { get; } = code;

    /// <summary>Creates an <see cref="ErrorCode.InvalidArgument"/> failure.</summary>
    public static CairnException Invalid(string message) => new(ErrorCode.InvalidArgument, message);

    /// <summary>Creates an <see cref="ErrorCode.NotFound"/> failure.</summary>
    public static CairnException NotFound(string message) => new(ErrorCode.NotFound, message);

    /// <summary>Creates an <see cref="ErrorCode.PermissionDenied"/> failure.</summary>
    public static CairnException Denied(string message) => new(ErrorCode.PermissionDenied, message);

    /// <summary>Creates an <see cref="ErrorCode.Unauthenticated"/> failure.</summary>
    public static CairnException Unauthenticated(string message) => new(ErrorCode.Unauthenticated, message);
}

/// <summary>The single table from failure kind to HTTP status and CLI exit code.</summary>
public static class ErrorCodes
{
    /// <summary>The HTTP status that reports <paramref name="code"/>.</summary>
    public static int HttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => 400,
        ErrorCode.NotFound => 404,
        ErrorCode.Conflict or ErrorCode.AlreadyExists => 409,
        ErrorCode.Unavailable => 503,
        ErrorCode.Overloaded => 429,
        ErrorCode.UnsupportedMediaType => 415,
        ErrorCode.Unauthenticated => 401,
        ErrorCode.PermissionDenied => 403,
        ErrorCode.Throttled => 429,
        _ => 500,
    };

    /// <summary>The process exit code that reports <paramref name="code"/>; 1 is left for unexpected failures.</summary>
    public static int ExitCode(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument or ErrorCode.UnsupportedMediaType => 2,
        ErrorCode.NotFound => 3,
        ErrorCode.Conflict or ErrorCode.AlreadyExists => 4,
        ErrorCode.Corrupt => 5,
        ErrorCode.Unavailable or ErrorCode.Overloaded or ErrorCode.Throttled => 6,
        ErrorCode.Unauthenticated or ErrorCode.PermissionDenied => 8,
        _ => 1,
    };

    /// <summary>The snake_case name used in JSON error bodies.</summary>
    public static string Name(this ErrorCode code) => code switch
    {
        ErrorCode.InvalidArgument => "invalid_argument",
        ErrorCode.NotFound => "not_found",
        ErrorCode.Conflict => "conflict",
        ErrorCode.AlreadyExists => "already_exists",
        ErrorCode.Corrupt => "corrupt",
        ErrorCode.Unavailable => "unavailable",
        ErrorCode.Overloaded => "resource_exhausted",
        ErrorCode.UnsupportedMediaType => "unsupported_media_type",
        ErrorCode.Unauthenticated => "unauthenticated",
        ErrorCode.PermissionDenied => "permission_denied",
        ErrorCode.Throttled => "throttled",
        _ => "internal",
    };
}
