using System.Net;
using System.Reflection;
using Cairn.Application;
using Cairn.Application.Identity;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Ports;
using Cairn.Server.Api;
using Cairn.Server.Mlflow;
using Cairn.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace Cairn.Server;

/// <summary>Where and what a Cairn server serves.</summary>
public sealed record CairnServerOptions
{
    /// <summary>The address to bind; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one.</summary>
    public int Port { get; init; } = 5000;

    /// <summary>The port of the Open Inference Protocol's gRPC service (HTTP/2 without TLS); 0 picks a free one; null serves no gRPC.</summary>
    public int? GrpcPort { get; init; }

    /// <summary>An OpenTelemetry collector to send traces to over OTLP (HTTP/protobuf); null sends none.</summary>
    public Uri? TracesEndpoint { get; init; }

    /// <summary>The alias a bare model name resolves through.</summary>
    public string Alias { get; init; } = "champion";

    /// <summary>The one deployment to serve, as a stateless replica; null serves every deployment.</summary>
    public string? Deployment { get; init; }

    /// <summary>How often the server re-reads deployments and aliases, to pick up changes.</summary>
    public TimeSpan DeploymentRefresh { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often deployments are re-read when the store pushes changes (PostgreSQL's NOTIFY): a safety net only.</summary>
    public TimeSpan DeploymentRefreshWhenNotified { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether answered predictions are profiled and logged, monitors evaluated and alerts sent.</summary>
    public bool Monitoring { get; init; } = true;

    /// <summary>How often monitors are evaluated and due alerts delivered.</summary>
    public TimeSpan MonitorInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often live profiles and the prediction log are written to the store.</summary>
    public TimeSpan MonitorFlush { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether every request (but liveness and readiness) must authenticate, and the principal's grants decide what it
    /// may do. Off, every caller acts as the server itself with every right — acceptable only on loopback.
    /// </summary>
    public bool Authentication { get; init; }

    /// <summary>An OpenID Connect provider users may sign in with (at <c>/signin/oidc</c>); null for none.</summary>
    public OidcSettings? Oidc { get; init; }

    /// <summary>Whether <c>/metrics</c> answers without credentials when <see cref="Authentication"/> is on (for scrapers that send none).</summary>
    public bool AnonymousMetrics { get; init; }

    /// <summary>Must be set to bind a non-loopback address without <see cref="Authentication"/>: it acknowledges that anyone who can reach the port can use the server.</summary>
    public bool AllowUnauthenticatedRemote { get; init; }

    /// <summary>The least severe log messages written to the console.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>
    /// The host names requests may address (the Host header), which closes DNS rebinding. Empty: loopback names when the
    /// server binds loopback, any host otherwise. <c>*</c> allows any.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Reverse proxies (by IP address) whose X-Forwarded-For, -Proto and -Host headers are believed: the client's
    /// address (sign-in throttling, the audit log), https (Secure cookies, OpenID Connect redirects) and the host
    /// name. None by default: from anyone else those headers are ignored, since any client can send them.
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];

    /// <summary>Origins (such as <c>https://notebooks.example.com</c>) whose pages may call the server from a browser; none by default.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Whether the web UI is served at <c>/</c>; serving replicas turn it off.</summary>
    public bool Ui { get; init; } = true;

    /// <summary>The largest request body accepted, in bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The largest artifact upload accepted, in bytes; uploads stream to disk, so this bounds disk use, not memory.</summary>
    public long MaxArtifactBytes { get; init; } = 8L * 1024 * 1024 * 1024;

    /// <summary>The largest dataset upload accepted, in bytes; it is spooled to disk and parsed, so this bounds disk use and parse time.</summary>
    public long MaxUploadBytes { get; init; } = 1L * 1024 * 1024 * 1024;
}

/// <summary>An OpenID Connect provider for browser sign-in.</summary>
/// <param name="Authority">The provider's issuer URL (its discovery document is under it).</param>
/// <param name="ClientId">Cairn's client id there.</param>
/// <param name="ClientSecret">Cairn's client secret there (from the environment, never the command line).</param>
public sealed record OidcSettings(Uri Authority, string ClientId, string? ClientSecret)
{
    /// <summary>The claim whose value is the Cairn user name.</summary>
    public string UserClaim { get; init; } = "preferred_username";

    /// <summary>The claim listing the user's groups; those Cairn has become the user's memberships.</summary>
    public string GroupsClaim { get; init; } = "groups";

    /// <summary>Whether the provider's metadata must come over HTTPS (off only for a provider on loopback).</summary>
    public bool RequireHttpsMetadata { get; init; } = true;
}

/// <summary>Builds and starts Cairn's HTTP server on Kestrel.</summary>
public static partial class CairnServer
{
    /// <summary>The product version reported by <c>GET /v2</c>.</summary>
    public static string Version { get; } =
        typeof(CairnServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Builds the server; <paramref name="addServices"/> registers the application services and their adapters.</summary>
    public static WebApplication Build(CairnServerOptions options, Action<IServiceCollection> addServices)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(addServices);
        var address = ParseBindAddress(options);

        // The UI's files are under wwwroot beside the program once published; a build serves them from where they lie,
        // as the static web assets manifest beside the program lists.
        var webRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "cairn",
            EnvironmentName = "Production",
            WebRootPath = Directory.Exists(webRoot) ? webRoot : null,
        });
        if (options.Ui)
        {
            Microsoft.AspNetCore.Hosting.StaticWebAssets.StaticWebAssetsLoader.UseStaticWebAssets(builder.Environment, builder.Configuration);
            // A build's manifest would otherwise turn on ASP.NET's development handling: files re-read and re-compressed
            // (uncompressed, in gzip framing) per request, no caching headers. Cairn runs from its build like a release.
            builder.Configuration["ReloadStaticAssetsAtRuntime"] = "false";
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // Kestrel and the host log a failed start (a port in use) with its stack trace; StartAsync reports it in one line instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        // Session keys are kept in the metadata store unencrypted on purpose (see StoreKeyRepository); the warning says only that.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        if (options.LogLevel > LogLevel.Information)
        {
            // Hosting logs only "request starting/finished" (Information), yet while its logger is enabled at all it
            // starts an Activity and a log scope for every request: 10% of what a prediction allocated.
            builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Listen(address, options.Port);
            if (options.GrpcPort is { } grpcPort)
            {
                // Cleartext gRPC needs HTTP/2 with prior knowledge, so it gets a port of its own.
                kestrel.Listen(address, grpcPort, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            }
        });
        if (options.TracesEndpoint is { } collector)
        {
            // Spans of HTTP requests, Cairn's requests and batches; exported in the background, off the request path.
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("cairn", serviceVersion: Version))
                .WithTracing(tracing => tracing
                    .AddSource(ServingTelemetry.SourceName)
                    .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !http.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal))
                    .AddOtlpExporter(otlp =>
                    {
                        otlp.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                        otlp.Endpoint = new Uri($"{collector.AbsoluteUri.TrimEnd('/')}/v1/traces");
                        otlp.BatchExportProcessorOptions.ScheduledDelayMilliseconds = 1000;
                    }));
        }

        var proxies = options.TrustedProxies.Select(p => IPAddress.TryParse(p.Trim('[', ']'), out var ip) ? ip
            : throw CairnException.Invalid($"--trusted-proxy '{p}' is not an IP address.")).ToList();
        if (proxies.Count > 0)
        {
            builder.Services.Configure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(forwarded =>
            {
                forwarded.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor
                    | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedHost;
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var proxy in proxies)
                {
                    forwarded.KnownProxies.Add(proxy);
                }
            });
        }

        var allowedHosts = AllowedHosts(options, address);
        if (allowedHosts is not ["*"])
        {
            builder.Services.AddHostFiltering(filtering =>
            {
                filtering.AllowedHosts = [.. allowedHosts];
                filtering.IncludeFailureMessage = true;
            });
        }

        if (options.CorsOrigins.Count > 0)
        {
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
                policy.WithOrigins([.. options.CorsOrigins]).AllowAnyHeader().AllowAnyMethod().WithExposedHeaders(
                    InferenceEndpoints.PredictionIdHeader, InferenceEndpoints.ModelVersionHeader)));
        }

        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<GrpcErrors>();
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, options.MaxRequestBodyBytes);
        });
        addServices(builder.Services);
        if (options.Authentication)
        {
            Sessions.AddSessions(builder.Services, options);
        }

        if (options.Ui)
        {
            builder.Services.AddCairnUi(new CairnUiOptions(options.Authentication, options.Oidc is not null));
        }

        builder.Services.AddSingleton(new ServingState(options.Alias, options.Deployment));
        builder.Services.AddSingleton<ServingMetrics>();
        builder.Services.AddSingleton(new RecorderOptions { FlushInterval = options.MonitorFlush });
        builder.Services.AddSingleton<PredictionRecorder>();
        builder.Services.AddSingleton<ServingStatistics>();
        builder.Services.AddSingleton(services => new ServingObservers(
        [
            services.GetRequiredService<ServingMetrics>(),
            services.GetRequiredService<ServingStatistics>(),
            .. options.Monitoring ? [services.GetRequiredService<PredictionRecorder>()] : Array.Empty<IServingObserver>(),
        ]));
        builder.Services.AddSingleton<IServingObserver>(services => services.GetRequiredService<ServingObservers>());
        if (options.Monitoring)
        {
            builder.Services.AddHostedService<MonitoringHost>();
        }

        builder.Services.AddSingleton(services =>
        {
            var host = ActivatorUtilities.CreateInstance<DeploymentHost>(services);
            host.Only = options.Deployment;
            return host;
        });
        builder.Services.AddSingleton(options);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            // The native API speaks Cairn's JSON: the same naming, enum names and NaN handling as the CLI's --json.
            var cairn = CairnJson.Default.Options;
            json.SerializerOptions.PropertyNamingPolicy = cairn.PropertyNamingPolicy;
            json.SerializerOptions.DefaultIgnoreCondition = cairn.DefaultIgnoreCondition;
            json.SerializerOptions.NumberHandling = cairn.NumberHandling;
            foreach (var converter in cairn.Converters)
            {
                json.SerializerOptions.Converters.Add(converter);
            }

            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, CairnJson.Default);
        });

        // Malformed bodies reach the error handler as exceptions, so they get the same JSON error body as everything else.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Cairn";
            document.Info.Description = "Cairn's native API: tracking, plus inference. MLflow clients use /api/2.0/mlflow/ instead.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        if (proxies.Count > 0)
        {
            // First, so host filtering, origins, throttling and cookies all see the client's view of the request.
            app.UseForwardedHeaders();
        }

        if (allowedHosts is not ["*"])
        {
            app.UseHostFiltering();
        }

        app.Use(HandleErrorsAsync);
        if (options.CorsOrigins.Count > 0)
        {
            app.UseCors();
        }

        app.UseMiddleware<RequestGuard>();
        if (options.Authentication)
        {
            if (options.Oidc is not null)
            {
                // Handles only the OpenID Connect callback; every other request is authenticated by the guard.
                app.UseAuthentication();
            }

            app.UseMiddleware<AuthenticationGuard>();
        }

        app.UseRouting();
        if (options.Ui)
        {
            // The UI's forms carry antiforgery tokens; this checks them (only endpoints that take forms ask for it).
            app.UseAntiforgery();
        }

        // Requests, status codes and latency per endpoint (the duration histogram counts requests too); with the
        // scoring metrics, scraped at /metrics. .NET's own meters (Kestrel, routing) are not bridged: listening to
        // them cost more per request than all of Cairn's scoring bookkeeping.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true, SuppressDebugMetrics = true });
        // Exemplars (a trace id kept per series) cost a clock read and a pooled object on every observation: measured at
        // about a tenth of a scoring request's time on the request thread. Traces are linked through their own spans instead.
        Metrics.DefaultFactory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        app.UseHttpMetrics(o =>
        {
            o.InProgress.Enabled = false;
            o.RequestCount.Enabled = false;
        });
        app.MapMetrics("/metrics");
        app.MapInference();
        app.MapMonitoring();
        app.MapGrpcService<OpenInferenceGrpc>();
        app.MapMlflow();
        app.MapTrackingApi();
        app.MapRegistryApi();
        app.MapDeploymentsApi();
        app.MapJobsApi();
        app.MapIdentityApi();
        app.MapDatasetsApi();
        app.MapArtifacts();
        if (options.Authentication)
        {
            app.MapSessions(options);
        }
        app.MapOpenApi("/api/openapi.json");
        if (options.Ui)
        {
            app.MapCairnUi();
        }

        // Any other path is a 404 in Cairn's error shape, whatever the method (the UI's catch-all GET route would
        // otherwise turn a PUT or POST to an unknown path into a 405).
        app.MapFallback("{**path}", (HttpContext http) => WriteErrorAsync(http, StatusCodes.Status404NotFound, "not_found", $"There is nothing at {http.Request.Path}."))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>Starts the server, loads the models the alias points to, and returns the address it listens on.</summary>
    public static async Task<Uri> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Uploads a killed server was receiving, and runs it left RUNNING, are cleaned up before it serves again.
        SpoolFiles.RemoveTempOrphans();
        await app.Services.GetRequiredService<RunService>().RecoverInterruptedAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Kestrel names the address it failed on; say which option moves it.
            var configured = app.Services.GetRequiredService<CairnServerOptions>();
            var grpc = configured.GrpcPort is { } grpcPort && grpcPort != 0 && e.Message.Contains($":{grpcPort}", StringComparison.Ordinal);
            var (port, option) = grpc ? (configured.GrpcPort, "--grpc-port") : (configured.Port, "--port");
            throw new CairnException(ErrorCode.Conflict,
                $"Port {port} on {configured.Host} is in use{(grpc ? " (gRPC)" : "")}. Stop whatever uses it, or choose another port with {option}.", e);
        }
        var state = app.Services.GetRequiredService<ServingState>();
        var deployments = app.Services.GetRequiredService<DeploymentHost>();
        ServingMetrics.Register(deployments);
        await deployments.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (state.Deployment is { } only && deployments.Find(only) is null)
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw deployments.FailureOf(only) is { } failure
                ? new CairnException(ErrorCode.Unavailable, $"Deployment '{only}' could not be loaded: {failure}")
                : CairnException.NotFound($"There is no deployment named '{only}'; 'cairn deployments list' shows them.");
        }

        var options = app.Services.GetRequiredService<CairnServerOptions>();
        var refresh = options.DeploymentRefresh;
        if (app.Services.GetService<IChangeFeed>() is { } feed)
        {
            // Changes are pushed (team mode), so polling is only the net under a lost connection.
            var models = app.Services.GetRequiredService<ModelServing>();
            var authenticator = app.Services.GetRequiredService<Authenticator>();
            _ = feed.ListenAsync(topic =>
            {
                if (topic == ChangeTopic.Identity)
                {
                    authenticator.Changed();
                }
                else
                {
                    deployments.Changed();
                    models.Changed();
                }
            }, app.Lifetime.ApplicationStopping);
            refresh = options.DeploymentRefreshWhenNotified;
        }

        _ = deployments.RunAsync(refresh, app.Lifetime.ApplicationStopping);
        if (state.Deployment is null)
        {
            try
            {
                await app.Services.GetRequiredService<ModelServing>().WarmUpAsync(state.Alias, cancellationToken).ConfigureAwait(false);
            }
            catch (CairnException e)
            {
                Log.WarmUpFailed(app.Logger, e.Message);
            }
        }

        state.MarkReady();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal));
    }

    /// <summary>What to warn about a server anyone on the network can use without credentials; null when it binds loopback.</summary>
    public static string? ExposureWarning(CairnServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Authentication || IPAddress.IsLoopback(ParseBindAddress(options)) ? null
            : $"Cairn is bound to {options.Host} without authentication: anyone who can reach this port can read, change and delete every experiment, model and deployment.";
    }

    /// <summary>Whether <paramref name="host"/> (as <c>--host</c> takes it) is a loopback address.</summary>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return IPAddress.IsLoopback(ParseAddress(host));
    }

    /// <summary>The address of the gRPC service, once started, or null when the server has none.</summary>
    public static Uri? GrpcAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Kestrel reports its endpoints in the order they were configured: HTTP, then gRPC.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return app.Services.GetRequiredService<CairnServerOptions>().GrpcPort is null || addresses.Count < 2
            ? null
            : new Uri(addresses.ElementAt(1).Replace("[::]", "localhost", StringComparison.Ordinal));
    }

    // Loopback servers answer only to loopback names, so a page whose own name resolves to 127.0.0.1 (DNS rebinding) is refused.
    private static IReadOnlyList<string> AllowedHosts(CairnServerOptions options, IPAddress address) =>
        options.AllowedHosts.Count > 0 ? options.AllowedHosts
        : IPAddress.IsLoopback(address) ? ["localhost", "127.0.0.1", "[::1]"]
        : ["*"];

    private static IPAddress ParseAddress(string text)
    {
        var host = text.Trim();
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw CairnException.Invalid($"--host '{text}' is not an IP address to bind; use 127.0.0.1, ::1, 0.0.0.0 or an address of this machine.");
    }

    private static IPAddress ParseBindAddress(CairnServerOptions options)
    {
        var address = ParseAddress(options.Host);
        if (!IPAddress.IsLoopback(address) && !options.Authentication && !options.AllowUnauthenticatedRemote)
        {
            throw CairnException.Invalid(
                $"Binding {options.Host} would expose Cairn beyond this machine without authentication. " +
                "Leave authentication on, or pass --allow-unauthenticated-remote to run it open anyway.");
        }

        foreach (var port in new[] { options.Port, options.GrpcPort ?? 0 })
        {
            if (port is < 0 or > 65535)
            {
                throw CairnException.Invalid($"Port {port} is not between 0 and 65535.");
            }
        }

        if (options.GrpcPort == options.Port && options.Port != 0)
        {
            throw CairnException.Invalid($"The HTTP and gRPC ports are both {options.Port}; give gRPC another with --grpc-port.");
        }

        return address;
    }

    // The largest unread body a refused request may leave for Kestrel to drain before the connection is reused.
    private const long RefusedBodyDrainLimit = 64 * 1024;

    // Expected failures become a 4xx/5xx with {"error": ...}; unexpected ones are logged and reported without detail.
    private static async Task HandleErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (CairnException e) when (!context.Response.HasStarted && e.Code == ErrorCode.Internal)
        {
            // A store failure that is not an outage: its detail (SQL, schema) is for the log, not for the caller.
            Log.RequestFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Cairn.Server"), context.Request.Path, e);
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "internal", "The server failed to handle the request; see its log.");
        }
        catch (CairnException e) when (!context.Response.HasStarted)
        {
            if (e.Code == ErrorCode.Unauthenticated)
            {
                context.Response.Headers.WWWAuthenticate = AuthenticationGuard.Challenge;
            }

            if (e.Code is ErrorCode.Overloaded or ErrorCode.Unavailable or ErrorCode.Throttled)
            {
                // Overload, warm-up and outages pass: tell clients when to come back rather than letting them hammer.
                context.Response.Headers.RetryAfter = "1";
                if (e.Code == ErrorCode.Overloaded && context.Request.ContentLength is > RefusedBodyDrainLimit)
                {
                    // Keeping the connection would mean receiving the whole refused body to reach the next request.
                    context.Response.Headers.Connection = "close";
                }
            }

            await (IsMlflow(context) ? MlflowEndpoints.Error(e).ExecuteAsync(context) : WriteErrorAsync(context, e.Code.HttpStatus(), e.Code.Name(), e.Message));
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, e.StatusCode, "invalid_argument", e.Message);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            Log.RequestFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Cairn.Server"), context.Request.Path, e);
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "internal", "The server failed to handle the request; see its log.");
        }
    }

    private static bool IsMlflow(HttpContext context) => context.Request.Path.StartsWithSegments(MlflowEndpoints.Prefix, StringComparison.Ordinal);

    /// <summary>Writes a JSON error in the protocol of the request's path (MLflow's shape under its prefix, Cairn's elsewhere).</summary>
    internal static Task WriteErrorAsync(HttpContext context, int status, string code, string message) =>
        IsMlflow(context)
            ? MlflowEndpoints.Error(status, status == 500 ? "INTERNAL_ERROR" : "BAD_REQUEST", message).ExecuteAsync(context)
            : InferenceEndpoints.Json(w =>
        {
            w.WriteString("error", message);
            w.WriteString("code", code);
        }, status).ExecuteAsync(context);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Request {Path} failed")]
        public static partial void RequestFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Loading models at start-up failed: {Reason}")]
        public static partial void WarmUpFailed(ILogger logger, string reason);
    }
}
