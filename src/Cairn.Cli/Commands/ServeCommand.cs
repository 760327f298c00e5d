using System.CommandLine;
using Cairn.Application;
using Cairn.Server;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn serve</c>: the inference server, until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create(CliApp app)
    {
        var port = new Option<int>("--port") { Description = "The port to listen on (0 picks a free one)", DefaultValueFactory = _ => 5000 };
        var host = new Option<string>("--host") { Description = "The address to bind", DefaultValueFactory = _ => "127.0.0.1" };
        var alias = new Option<string>("--alias") { Description = "The alias a bare model name in a URL resolves through", DefaultValueFactory = _ => "champion" };
        var grpcPort = new Option<int?>("--grpc-port")
        {
            Description = "The port of the Open Inference Protocol's gRPC service (0 picks a free one; default 5001, none for a --deployment replica)",
        };
        var allowedHosts = new Option<string[]>("--allowed-host")
        {
            Description = "A host name clients may address the server by (repeatable; default: loopback names when bound to loopback, any otherwise)",
            AllowMultipleArgumentsPerToken = false,
        };
        var trustedProxies = new Option<string[]>("--trusted-proxy")
        {
            Description = "The IP address of a reverse proxy in front of the server whose X-Forwarded-For/-Proto/-Host headers are believed (repeatable)",
        };
        var corsOrigins = new Option<string[]>("--cors-origin")
        {
            Description = "An origin, such as https://notebooks.example.com, whose web pages may call the server (repeatable; none by default)",
        };
        var deployment = new Option<string?>("--deployment") { Description = "Serve only this deployment, as a stateless replica (also on MLflow's bare /invocations)" };
        var noMonitoring = new Option<bool>("--no-monitoring") { Description = "Do not profile or log predictions, evaluate monitors or send alerts" };
        var remote = new Option<bool>("--allow-unauthenticated-remote")
        {
            Description = "Run without authentication although the server is reachable beyond loopback or uses a team store (everyone may do everything)",
        };
        var auth = new Option<bool>("--auth")
        {
            Description = "Require credentials on every request even on loopback with the embedded store (on by default anywhere else; also CAIRN_AUTH=on)",
        };
        var noUi = new Option<bool>("--no-ui") { Description = "Do not serve the web UI at / (replicas serving one deployment never do)" };
        var anonymousMetrics = new Option<bool>("--anonymous-metrics") { Description = "Let /metrics answer without credentials when authentication is on" };
        var oidcAuthority = new Option<string?>("--oidc-authority")
        {
            Description = "An OpenID Connect provider (issuer URL) users sign in with at /signin/oidc; the client secret comes from CAIRN_OIDC_CLIENT_SECRET",
        };
        var oidcClient = new Option<string?>("--oidc-client-id") { Description = "Cairn's client id at the OpenID Connect provider" };
        var oidcUserClaim = new Option<string>("--oidc-user-claim") { Description = "The claim holding the Cairn user name", DefaultValueFactory = _ => "preferred_username" };
        var oidcGroupsClaim = new Option<string>("--oidc-groups-claim") { Description = "The claim listing the user's groups", DefaultValueFactory = _ => "groups" };
        var maxUpload = new Option<int>("--max-upload-mib") { Description = "The largest dataset upload accepted, in MiB", DefaultValueFactory = _ => 1024 };
        var maxArtifact = new Option<int>("--max-artifact-mib") { Description = "The largest artifact upload accepted, in MiB", DefaultValueFactory = _ => 8192 };
        var command = new Command("serve", "Serve registered models over HTTP (Open Inference Protocol v2 and JSON rows)") { port, grpcPort, host, alias, deployment, noMonitoring, noUi, auth, remote, anonymousMetrics, oidcAuthority, oidcClient, oidcUserClaim, oidcGroupsClaim, allowedHosts, trustedProxies, corsOrigins, maxUpload, maxArtifact };
        command.SetAction(app.ServerSideHandler(async (context, ct) =>
        {
            var open = context.Parse.GetValue(remote);
            var authentication = AuthenticationRequired(context.Parse.GetValue(host)!, context.Home.Store is not null, context.Parse.GetValue(auth),
                app.Environment("CAIRN_AUTH"), open);
            var options = new CairnServerOptions
            {
                Authentication = authentication,
                AnonymousMetrics = context.Parse.GetValue(anonymousMetrics),
                Oidc = Oidc(context.Parse.GetValue(oidcAuthority), context.Parse.GetValue(oidcClient), app.Environment("CAIRN_OIDC_CLIENT_SECRET"), authentication) is { } oidc
                    ? oidc with { UserClaim = context.Parse.GetValue(oidcUserClaim)!, GroupsClaim = context.Parse.GetValue(oidcGroupsClaim)! }
                    : null,
                Port = context.Parse.GetValue(port),
                // A replica beside a full server would clash on 5001, so it serves gRPC only when asked to.
                GrpcPort = context.Parse.GetValue(grpcPort) ?? (context.Parse.GetValue(deployment) is null ? 5001 : null),
                AllowedHosts = context.Parse.GetValue(allowedHosts) ?? [],
                CorsOrigins = context.Parse.GetValue(corsOrigins) ?? [],
                TrustedProxies = context.Parse.GetValue(trustedProxies) ?? [],
                MaxUploadBytes = Mebibytes(context.Parse.GetValue(maxUpload), "--max-upload-mib"),
                MaxArtifactBytes = Mebibytes(context.Parse.GetValue(maxArtifact), "--max-artifact-mib"),
                Host = context.Parse.GetValue(host)!,
                Alias = context.Parse.GetValue(alias)!,
                AllowUnauthenticatedRemote = open,
                Deployment = context.Parse.GetValue(deployment),
                Monitoring = !context.Parse.GetValue(noMonitoring),
                Ui = !context.Parse.GetValue(noUi) && context.Parse.GetValue(deployment) is null,
                TracesEndpoint = TracesEndpoint(app.Environment("OTEL_EXPORTER_OTLP_ENDPOINT")),
            };
            await using var server = Build(context, options);
            // As text: Spectre escapes interpolated strings only, and an IPv6 address's brackets would read as markup.
            var address = (await CairnServer.StartAsync(server, ct)).ToString();
            var console = context.Console.Out;
            if (options.Deployment is { } only)
            {
                console.MarkupLineInterpolated($"Cairn {CairnServer.Version} serving deployment {only} at [bold]{address}[/] (home {context.Home.Path})");
                console.MarkupLineInterpolated($"  POST {address}invocations              MLflow scoring protocol");
                console.MarkupLineInterpolated($"  POST {address}v2/models/{only}/infer     Open Inference Protocol v2");
            }
            else
            {
                console.MarkupLineInterpolated($"Cairn {CairnServer.Version} serving deployments, and models @{options.Alias}, at [bold]{address}[/] (home {context.Home.Path})");
                console.MarkupLineInterpolated($"  POST {address}v2/models/NAME/infer          Open Inference Protocol v2 (a deployment or a model)");
                console.MarkupLineInterpolated($"  POST {address}api/deployments/NAME/invocations  MLflow scoring protocol");
                console.MarkupLineInterpolated($"  POST {address}api/models/NAME/predict       JSON rows");
            }

            console.MarkupLineInterpolated($"  GET  {address}metrics                      Prometheus metrics");
            if (options.Ui)
            {
                console.MarkupLineInterpolated($"  GET  {address}                             the web UI (experiments, runs, models, datasets, deployments)");
            }

            if (CairnServer.GrpcAddress(server)?.ToString() is { } grpc)
            {
                console.MarkupLineInterpolated($"  gRPC {grpc}  inference.GRPCInferenceService (Open Inference Protocol v2)");
            }

            if (CairnServer.ExposureWarning(options) is { } warning)
            {
                context.Console.Error.WriteLine($"warning: {warning}");
            }

            if (options.Authentication)
            {
                console.MarkupLine("  Authentication is on: send 'Authorization: Bearer TOKEN' (cairn tokens create) or HTTP Basic.");
                if (await NoAccountsAsync(server, ct))
                {
                    context.Console.Error.WriteLine("warning: authentication is on and there are no users yet; create the first administrator on this machine with 'cairn users create NAME --admin'.");
                }
            }

            console.MarkupLine("Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }

            await server.StopAsync(CancellationToken.None);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Whether a server authenticates: off only where one person holds everything anyway (the embedded store served on
    /// loopback), unless asked for; <paramref name="open"/> (--allow-unauthenticated-remote) is the explicit way to run without.
    /// </summary>
    internal static bool AuthenticationRequired(string host, bool teamStore, bool asked, string? environment, bool open) =>
        !open && (asked || environment is "on" or "true" or "1" || teamStore || !CairnServer.IsLoopback(host));

    private static OidcSettings? Oidc(string? authority, string? clientId, string? secret, bool authentication)
    {
        if (authority is null && clientId is null)
        {
            return null;
        }

        if (authority is null || clientId is null)
        {
            throw Core.CairnException.Invalid("OpenID Connect sign-in needs both --oidc-authority and --oidc-client-id.");
        }

        if (!authentication)
        {
            throw Core.CairnException.Invalid("OpenID Connect sign-in needs authentication on; drop --allow-unauthenticated-remote or add --auth.");
        }

        if (!Uri.TryCreate(authority, UriKind.Absolute, out var issuer) || issuer.Scheme is not ("https" or "http"))
        {
            throw Core.CairnException.Invalid($"--oidc-authority '{authority}' is not an http(s) URL of an OpenID Connect provider.");
        }

        // Plain HTTP only to a provider on this machine; anything else could be impersonated on the way.
        var loopback = issuer.IsLoopback;
        if (issuer.Scheme == "http" && !loopback)
        {
            throw Core.CairnException.Invalid($"--oidc-authority '{authority}' must use https (plain http is accepted only on loopback).");
        }

        return new OidcSettings(issuer, clientId, secret) { RequireHttpsMetadata = !loopback };
    }

    private static async Task<bool> NoAccountsAsync(Microsoft.AspNetCore.Builder.WebApplication server, CancellationToken cancellationToken) =>
        (await server.Services.GetRequiredService<Core.Ports.IIdentityStore>().ListPrincipalsAsync(null, cancellationToken)).Count == 0;

    private static long Mebibytes(int value, string option) =>
        value > 0 ? value * 1024L * 1024 : throw Core.CairnException.Invalid($"{option} is {value}; it must be a positive number of MiB.");

    // OpenTelemetry's standard variable names the collector; traces are sent only when it is set.
    private static Uri? TracesEndpoint(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null
        : Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
        : throw Core.CairnException.Invalid($"OTEL_EXPORTER_OTLP_ENDPOINT is '{value}', which is not an http:// or https:// address of an OpenTelemetry collector.");

    /// <summary>A server over the same home as the command, with its own services.</summary>
    public static Microsoft.AspNetCore.Builder.WebApplication Build(CommandContext context, CairnServerOptions options) => Build(context.Home, options, null);

    /// <summary>A server over <paramref name="home"/>, on <paramref name="time"/>'s clock (the system's when null).</summary>
    public static Microsoft.AspNetCore.Builder.WebApplication Build(CairnHome home, CairnServerOptions options, TimeProvider? time) =>
        CairnServer.Build(options, services =>
        {
            if (time is not null)
            {
                services.AddSingleton(time);
            }

            services.AddCairn(home, new Actor("cairn-server"));
        });
}
