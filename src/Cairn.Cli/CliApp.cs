using System.CommandLine;
using Cairn.Application;
using Cairn.Cli.Commands;
using Cairn.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Cli;

/// <summary>
/// What a command handler works with: its parse result, the console, and either the services of the chosen home or,
/// for a command run against a server, that <see cref="Server"/> (then there are no local services or home).
/// </summary>
internal sealed record CommandContext(ParseResult Parse, CliConsole Console, IServiceProvider Services, CairnHome Home, bool Json, string WorkingDirectory,
    RemoteServer? Server = null)
{
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>The server this command talks to; only remote handlers ask.</summary>
    public RemoteServer Remote => Server ?? throw new InvalidOperationException("This command runs on the local store.");

    /// <summary>A path the user typed, relative to the working directory.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(path, WorkingDirectory);
}

/// <summary>The <c>cairn</c> command line: builds the command tree and runs one invocation.</summary>
internal sealed class CliApp(CliConsole console, Func<string, string?> environment, string workingDirectory)
{
    /// <summary>Exit code for a usage error (unknown option, missing argument).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a check that ran and failed: a contract violated, drift found with --fail-on-drift.</summary>
    public const int CheckFailed = 7;

    public Option<string?> HomeOption { get; } = new("--home")
    {
        Description = $"Cairn's home folder (default: ${CairnHome.EnvironmentVariable}, else ./.cairn)",
        Recursive = true,
    };

    public Option<string?> StoreOption { get; } = new("--store")
    {
        Description = $"A shared PostgreSQL metadata store, postgresql://user:password@host:port/database (default: ${CairnHome.StoreEnvironmentVariable}, else the home's SQLite file)",
        Recursive = true,
    };

    public Option<string?> ArtifactsOption { get; } = new("--artifacts")
    {
        Description = $"A shared artifact store, s3://bucket/prefix; the endpoint of an S3-compatible server comes from CAIRN_S3_ENDPOINT, credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (default: ${CairnHome.ArtifactsEnvironmentVariable}, else the home folder)",
        Recursive = true,
    };

    public Option<bool> JsonOption { get; } = new("--json") { Description = "Write JSON instead of tables", Recursive = true };

    public Option<string?> ServerOption { get; } = new("--server")
    {
        Description = $"A Cairn server to work through instead of a local store, by address or profile name (default: ${RemoteServer.ServerEnvironmentVariable}, else the profile 'cairn login' chose)",
        Recursive = true,
    };

    public CliConsole Console { get; } = console;

    public string WorkingDirectory { get; } = workingDirectory;

    public Func<string, string?> Environment { get; } = environment;

    public static Task<int> RunAsync(string[] args, CliConsole console, Func<string, string?> environment, string workingDirectory, CancellationToken cancellationToken) =>
        new CliApp(console, environment, workingDirectory).RunAsync(args, cancellationToken);

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Cairn carries a tabular model from a CSV file to a live prediction: datasets, training, tracking, registry and serving.");
        root.Options.Add(HomeOption);
        root.Options.Add(StoreOption);
        root.Options.Add(ArtifactsOption);
        root.Options.Add(JsonOption);
        root.Options.Add(ServerOption);
        root.Subcommands.Add(DatasetsCommands.Create(this));
        root.Subcommands.Add(TrainCommand.Create(this));
        root.Subcommands.Add(SweepCommand.Create(this));
        root.Subcommands.Add(PredictCommand.Create(this));
        root.Subcommands.Add(PipelinesCommands.Create(this));
        root.Subcommands.Add(JobsCommands.Create(this));
        root.Subcommands.Add(ExperimentsCommands.Create(this));
        root.Subcommands.Add(RunsCommands.Create(this));
        root.Subcommands.Add(ModelsCommands.Create(this));
        root.Subcommands.Add(EventsCommand.Create(this));
        root.Subcommands.Add(LineageCommand.Create(this));
        root.Subcommands.Add(IdentityCommands.CreateUsers(this));
        root.Subcommands.Add(IdentityCommands.CreateGroups(this));
        root.Subcommands.Add(IdentityCommands.CreateTokens(this));
        root.Subcommands.Add(IdentityCommands.CreateGrants(this));
        root.Subcommands.Add(GcCommand.Create(this));
        root.Subcommands.Add(DeploymentsCommands.CreateDeploy(this));
        root.Subcommands.Add(DeploymentsCommands.Create(this));
        root.Subcommands.Add(MonitorsCommands.Create(this));
        root.Subcommands.Add(MonitorsCommands.CreateFeedback(this));
        root.Subcommands.Add(MonitorsCommands.CreateAlerts(this));
        root.Subcommands.Add(PoliciesCommands.Create(this));
        root.Subcommands.Add(ServeCommand.Create(this));
        root.Subcommands.Add(QuickstartCommand.Create(this));
        root.Subcommands.Add(DemoCommand.Create(this));
        root.Subcommands.Add(ProfileCommands.CreateLogin(this));
        root.Subcommands.Add(ProfileCommands.CreateLogout(this));
        root.Subcommands.Add(ProfileCommands.CreateProfiles(this));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var json = args.Contains("--json", StringComparer.Ordinal);
            // A mistyped command also leaves its parent without one; the mistyped word is the error worth reading.
            var errors = parse.UnmatchedTokens.Count > 0 ? parse.Errors.Where(e => parse.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) : parse.Errors;
            foreach (var error in errors)
            {
                Console.WriteError(error.Message + DidYouMean(parse, error), json ? ErrorCode.InvalidArgument : null);
            }

            if (!json)
            {
                Console.Error.WriteLine($"Run '{string.Join(' ', CommandPath(parse.CommandResult.Command))} --help' for usage.");
            }

            return UsageError;
        }

        return await parse.InvokeAsync(new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            Output = Console.RawOut,
            Error = Console.Error,
        }, cancellationToken).ConfigureAwait(false);
    }

    // An unknown word where a command or option was expected gets the nearest ones at that level.
    private static string DidYouMean(ParseResult parse, System.CommandLine.Parsing.ParseError error)
    {
        var word = parse.UnmatchedTokens.FirstOrDefault(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal));
        if (word is null)
        {
            return "";
        }

        var command = parse.CommandResult.Command;
        var names = word.StartsWith('-')
            ? command.Options.Concat(command.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive))).SelectMany(o => o.Aliases.Append(o.Name))
            : command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Append(c.Name));
        var near = Suggestions.Near(word, names).Take(3).ToList();
        return near.Count == 0 ? "" : $" Did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}?";
    }

    private static IEnumerable<string> CommandPath(Command command) =>
        command.Parents.OfType<Command>().SelectMany(CommandPath).Append(command is RootCommand ? "cairn" : command.Name);

    /// <summary>Where profiles are kept.</summary>
    public ProfileStore Profiles => ProfileStore.For(Environment);

    /// <summary>
    /// Wraps a command's handlers: with a server chosen (<c>--server</c>, <c>CAIRN_SERVER</c>, a profile) and no
    /// <c>--home</c> or <c>--store</c> given, runs <paramref name="remote"/> against it, refusing a command that has
    /// none; else resolves the home, builds its services and runs <paramref name="handler"/>. Failures become a
    /// message and an exit code either way.
    /// </summary>
    public Func<ParseResult, CancellationToken, Task<int>> Handler(Func<CommandContext, CancellationToken, Task<int>> handler,
        Func<CommandContext, CancellationToken, Task<int>>? remote = null) => Handler(handler, remote, Where.StoreOrServer);

    /// <summary>A handler for a command that is part of running the server (serve, workers, administration): always on the local home and store.</summary>
    public Func<ParseResult, CancellationToken, Task<int>> ServerSideHandler(Func<CommandContext, CancellationToken, Task<int>> handler) =>
        Handler(handler, null, Where.Store);

    /// <summary>A handler that needs neither a store nor a server (profiles): it gets no services and no home.</summary>
    public Func<ParseResult, CancellationToken, Task<int>> StorelessHandler(Func<CommandContext, CancellationToken, Task<int>> handler) =>
        Handler(handler, null, Where.Nowhere);

    private enum Where
    {
        StoreOrServer,
        Store,
        Nowhere,
    }

    private Func<ParseResult, CancellationToken, Task<int>> Handler(Func<CommandContext, CancellationToken, Task<int>> handler,
        Func<CommandContext, CancellationToken, Task<int>>? remote, Where where) =>
        async (parse, cancellationToken) =>
        {
            try
            {
                if (where == Where.Nowhere)
                {
                    return await handler(new CommandContext(parse, Console, null!, null!, parse.GetValue(JsonOption), WorkingDirectory), cancellationToken).ConfigureAwait(false);
                }

                var local = parse.GetResult(HomeOption) is { Implicit: false } || parse.GetResult(StoreOption) is { Implicit: false };
                if (where == Where.StoreOrServer && !local && RemoteServer.Choose(parse.GetValue(ServerOption), Environment, Profiles) is { } server)
                {
                    using (server)
                    {
                        if (remote is null)
                        {
                            throw CairnException.Invalid(
                                $"'{string.Join(' ', CommandPath(parse.CommandResult.Command))}' does not run through a server yet, and {server.Address} is chosen. " +
                                "Run it where the store is, or give --home DIR to use a local one.");
                        }

                        await server.ConnectAsync(cancellationToken).ConfigureAwait(false);
                        return await remote(new CommandContext(parse, Console, null!, null!, parse.GetValue(JsonOption), WorkingDirectory, server), cancellationToken)
                            .ConfigureAwait(false);
                    }
                }

                var home = CairnHome.Resolve(parse.GetValue(HomeOption), parse.GetValue(StoreOption), parse.GetValue(ArtifactsOption), Environment, WorkingDirectory);
                await using var services = new ServiceCollection()
                    .AddCairn(home, new Actor(System.Environment.UserName))
                    .BuildServiceProvider();
                // What a killed command left behind would lie forever (a run RUNNING, a half-received upload); the next command cleans up.
                SpoolFiles.RemoveTempOrphans();
                _ = services.GetRequiredService<Core.Ports.IArtifactStore>(); // opening it removes its dead writers' partial files
                await services.GetRequiredService<RunService>().RecoverInterruptedAsync(cancellationToken).ConfigureAwait(false);
                return await handler(new CommandContext(parse, Console, services, home, parse.GetValue(JsonOption), WorkingDirectory), cancellationToken).ConfigureAwait(false);
            }
            catch (CairnException e)
            {
                Console.WriteError(e.Message, parse.GetValue(JsonOption) ? e.Code : null);
                return e.Code.ExitCode();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.WriteError("cancelled");
                return 130;
            }
            catch (Exception e)
            {
                // A bug, not a user mistake: say so, and keep the trace for the report.
                Console.WriteError($"unexpected failure ({e.GetType().Name}): {e.Message}");
                Console.Error.WriteLine(e.StackTrace);
                return 1;
            }
        };
}
