using System.Diagnostics;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace Cairn.Testing;

/// <summary>
/// A real S3-compatible server for the tests: the one CAIRN_TEST_S3 names (an http:// endpoint), or a moto_server
/// started here on 127.0.0.1. Each test gets its own bucket.
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    public static readonly BasicAWSCredentials Credentials = new("cairn-test", "cairn-test-secret");

    private Process? _process;

    /// <summary>The server's endpoint.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("CAIRN_TEST_S3") is { Length: > 0 } given)
        {
            Endpoint = new Uri(given);
            return;
        }

        var port = FreePort();
        _process = Process.Start(new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("moto_server did not start; it comes with the machine's Python (pip package moto).");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (attempt < 150 && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Creates an empty bucket and returns its name.</summary>
    public async Task<string> CreateBucketAsync()
    {
        var name = $"cairn-{Guid.NewGuid():N}";
        using var client = Client();
        await client.PutBucketAsync(name);
        return name;
    }

    /// <summary>A client for the server, with the test credentials.</summary>
    public AmazonS3Client Client() => new(Credentials, new AmazonS3Config
    {
        ServiceURL = Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
    });

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
