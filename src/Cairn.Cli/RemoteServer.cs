using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cairn.Client;
using Cairn.Core;

namespace Cairn.Cli;

/// <summary>
/// The Cairn server a command talks to instead of opening a store: named by <c>--server</c>, else <c>CAIRN_SERVER</c>,
/// else the current profile (<c>cairn login</c>); its token comes from <c>CAIRN_TOKEN</c>, else that profile. Every
/// failure becomes the <see cref="CairnException"/> the same mistake makes locally, so exit codes match.
/// </summary>
internal sealed class RemoteServer : IDisposable
{
    public const string ServerEnvironmentVariable = "CAIRN_SERVER";
    public const string TokenEnvironmentVariable = "CAIRN_TOKEN";

    private readonly HttpClient _http;

    public RemoteServer(Uri address, string? token)
    {
        Address = address;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(10) };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        // A command fails fast when the server is down: three tries over 0.3 s, not the SDK's five over 1.5 s.
        Client = new CairnClient(_http, new CairnClientOptions { MaxAttempts = 3 });
    }

    public Uri Address { get; }

    public CairnClient Client { get; }

    /// <summary>The server a command should use, or null to use the local home.</summary>
    public static RemoteServer? Choose(string? serverOption, Func<string, string?> environment, ProfileStore profiles)
    {
        var named = serverOption ?? environment(ServerEnvironmentVariable);
        var profiles_ = profiles.Load();
        var profile = named is null
            ? profiles_.Current is { } current ? profiles_.Find(current) : null
            : profiles_.Profiles.FirstOrDefault(p => p.Name == named || SameServer(p.Server, named));
        if (named is null && profile is null)
        {
            return null;
        }

        var address = ParseAddress(named ?? profile!.Server);
        return new RemoteServer(address, environment(TokenEnvironmentVariable) is { Length: > 0 } token ? token : profile?.Token);
    }

    public static Uri ParseAddress(string text) =>
        Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Query.Length == 0
            ? uri
            : throw CairnException.Invalid($"'{text}' is not a server address; give one such as https://cairn.example.com or http://127.0.0.1:5000.");

    private static bool SameServer(string a, string b) =>
        Uri.TryCreate(a.TrimEnd('/'), UriKind.Absolute, out var x) && Uri.TryCreate(b.TrimEnd('/'), UriKind.Absolute, out var y) && x == y;

    /// <summary>Checks the server is there, is Cairn, and speaks this client's version; returns its version.</summary>
    public async Task<string> ConnectAsync(CancellationToken cancellationToken)
    {
        var metadata = await GetAsync("v2", RemoteJson.Default.JsonElement, cancellationToken).ConfigureAwait(false);
        var name = metadata.TryGetProperty("name", out var n) ? n.GetString() : null;
        var version = metadata.TryGetProperty("version", out var v) ? v.GetString() ?? "" : "";
        if (name != "cairn")
        {
            throw new CairnException(ErrorCode.Unavailable, $"{Address} is not a Cairn server (it calls itself '{name}').");
        }

        var mine = ClientVersion;
        if (!Compatible(mine, version))
        {
            throw new CairnException(ErrorCode.Conflict,
                $"This cairn is version {mine} and the server at {Address} is version {version}: install the server's version (dotnet tool update --global Cairn.Cli --version {version}).");
        }

        return version;
    }

    /// <summary>This program's version, without its build metadata.</summary>
    public static string ClientVersion =>
        typeof(RemoteServer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    // The same major and minor version speak the same API; patches do not change it.
    private static bool Compatible(string a, string b) =>
        Version.TryParse(a, out var x) && Version.TryParse(b, out var y) && x.Major == y.Major && x.Minor == y.Minor;

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.GetAsync(path, type, cancellationToken).ConfigureAwait(false);
        }
        catch (CairnClientException e)
        {
            throw Translate(e);
        }
    }

    public async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.SendAsync(method, path, content, type, retry: false, cancellationToken).ConfigureAwait(false);
        }
        catch (CairnClientException e)
        {
            throw Translate(e);
        }
    }

    public async Task SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        try
        {
            await Client.SendAsync(method, path, content, retry: false, cancellationToken).ConfigureAwait(false);
        }
        catch (CairnClientException e)
        {
            throw Translate(e);
        }
    }

    /// <summary>Any call of the client (its typed methods), with the server's errors turned into Cairn's, as every request here is.</summary>
    public async Task<T> CallAsync<T>(Func<CairnClient, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call(Client).ConfigureAwait(false);
        }
        catch (CairnClientException e)
        {
            throw Translate(e);
        }
    }

    /// <summary>The successful response of any request, for the caller to read and dispose.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, Func<HttpContent?> content, CancellationToken cancellationToken)
    {
        try
        {
            return await Client.SendRawAsync(method, path, content, retry: method == HttpMethod.Get, cancellationToken).ConfigureAwait(false);
        }
        catch (CairnClientException e)
        {
            throw Translate(e);
        }
    }

    // The server's error code says which exit code the same mistake has locally; no answer at all is "unavailable", naming the address.
    private CairnException Translate(CairnClientException e)
    {
        if (e.StatusCode is null)
        {
            var cause = e.InnerException?.Message ?? e.Message;
            return new CairnException(ErrorCode.Unavailable, $"Cannot reach the Cairn server at {Address}: {cause}", e);
        }

        var code = Enum.GetValues<ErrorCode>().FirstOrDefault(c => c.Name() == e.Code, e.StatusCode switch
        {
            400 => ErrorCode.InvalidArgument,
            401 => ErrorCode.Unauthenticated,
            403 => ErrorCode.PermissionDenied,
            404 => ErrorCode.NotFound,
            409 => ErrorCode.Conflict,
            429 => ErrorCode.Throttled,
            503 => ErrorCode.Unavailable,
            _ => ErrorCode.Internal,
        });
        var advice = code == ErrorCode.Unauthenticated ? $" Log in again: cairn login {Address}" : "";
        return new CairnException(code, e.Reason + advice, e);
    }

    public void Dispose() => _http.Dispose();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class RemoteJson : System.Text.Json.Serialization.JsonSerializerContext;
