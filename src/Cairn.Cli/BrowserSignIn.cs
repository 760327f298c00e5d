using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cairn.Core;

namespace Cairn.Cli;

/// <summary>
/// <c>cairn login URL --browser</c>: the loopback flow of RFC 8252. A listener on 127.0.0.1 waits while the user signs
/// in to the server in a browser; the server sends the browser back to it with a short-lived code bound to this
/// command's PKCE challenge, and the command trades code and verifier for a token of its own.
/// </summary>
internal static class BrowserSignIn
{
    /// <summary>The conventional variable naming the program that opens a URL.</summary>
    public const string BrowserEnvironmentVariable = "BROWSER";

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    /// <summary>Signs in through a browser and returns the new token's secret.</summary>
    public static async Task<string> RunAsync(CommandContext context, Uri server, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var url = new Uri(server, $"signin/cli?port={port}&state={state}&challenge={challenge}");
        context.Console.Error.WriteLine($"Sign in to {server} in your browser; if none opens, open this page: {url}");
        Open(url, environment);

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(Patience);
        string code;
        try
        {
            code = await WaitForCodeAsync(listener, state, patience.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CairnException(ErrorCode.Unauthenticated, $"No sign-in came back from the browser within {Patience.TotalMinutes:0} minutes. Nothing was stored.");
        }

        using var remote = new RemoteServer(server, null);
        var body = new Server.Api.CliTokenBody(code, verifier, TokenName(TimeProvider.System.GetUtcNow()));
        var answer = await remote.SendAsync(HttpMethod.Post, "api/session/cli-token",
            System.Net.Http.Json.JsonContent.Create(body, Server.Api.ApiJson.Default.CliTokenBody), Server.Api.ApiJson.Default.CliTokenAnswer, cancellationToken);
        context.Console.Error.WriteLine($"Signed in as {answer.User}; made the token '{answer.Name}'{(answer.ExpiresAt is { } ends ? $" (until {ends:yyyy-MM-dd})" : "")}.");
        return answer.Secret;
    }

    // Answers the browser's requests until one brings the code with this sign-in's state; anything else gets a 400 and is ignored.
    private static async Task<string> WaitForCodeAsync(TcpListener listener, string state, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var client = await listener.AcceptTcpClientAsync(cancellationToken);
            await using var stream = client.GetStream();
            var head = await ReadHeadAsync(stream, cancellationToken);
            var target = head.Split(' ') is [_, var path, ..] ? path : "";
            var query = target.StartsWith("/callback?", StringComparison.Ordinal)
                ? System.Web.HttpUtility.ParseQueryString(target["/callback?".Length..])
                : null;
            var ok = query?["state"] == state && !string.IsNullOrEmpty(query["code"]);
            var page = ok ? "Signed in to Cairn. You can close this page and go back to the command line."
                : "This is not the sign-in the command line is waiting for.";
            var bytes = Encoding.UTF8.GetBytes(
                $"HTTP/1.1 {(ok ? "200 OK" : "400 Bad Request")}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(page)}\r\nConnection: close\r\n\r\n{page}");
            await stream.WriteAsync(bytes, cancellationToken);
            if (ok)
            {
                return query!["code"]!;
            }
        }
    }

    // The request line and headers, at most 16 KB: the code is in the request line.
    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var read = 0;
        while (read < buffer.Length)
        {
            var count = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (count == 0)
            {
                break;
            }

            read += count;
            if (buffer.AsSpan(0, read).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var text = Encoding.ASCII.GetString(buffer, 0, read);
        return text.Split("\r\n", 2)[0];
    }

    // $BROWSER (the first of its ':'-separated programs), else the desktop's opener; a machine with none is told the URL.
    private static void Open(Uri url, Func<string, string?> environment)
    {
        var program = environment(BrowserEnvironmentVariable)?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
            ?? (OperatingSystem.IsMacOS() ? "open" : OperatingSystem.IsWindows() ? "explorer" : "xdg-open");
        try
        {
            using var opened = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program) { ArgumentList = { url.AbsoluteUri }, UseShellExecute = false });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // No browser here (a server over ssh): the URL printed above is the way.
        }
    }

    // Unique per sign-in, and says where it was made.
    private static string TokenName(DateTimeOffset now)
    {
        var host = new string([.. Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-')]).Trim('-', '.');
        return $"cli-{(host.Length > 0 ? host[..Math.Min(host.Length, 60)] : "machine")}-{now:yyyyMMddHHmmss}";
    }
}
