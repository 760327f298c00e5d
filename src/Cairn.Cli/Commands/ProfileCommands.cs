using System.CommandLine;
using Cairn.Core;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn login | logout | profiles</c>: which Cairn server commands go through, and the token they show it.</summary>
internal static class ProfileCommands
{
    public static Command CreateLogin(CliApp app)
    {
        var server = new Argument<string>("server") { Description = "The server's address, such as https://cairn.example.com or http://127.0.0.1:5000" };
        var token = new Option<string?>("--token")
        {
            Description = $"An API token ('cairn tokens create' on the server makes one); '-' reads it from standard input (default: ${RemoteServer.TokenEnvironmentVariable})",
        };
        var name = new Option<string?>("--name") { Description = "What to call this profile (default: the server's host and port)" };
        var browser = new Option<bool>("--browser")
        {
            Description = "Sign in with a browser instead of a token: the server's OpenID Connect provider (or its sign-in page); a token for this machine is made and kept",
        };
        var command = new Command("login", "Work through a Cairn server: check the token and keep it in a profile that later commands use") { server, token, name, browser };
        command.SetAction(app.StorelessHandler(async (context, ct) =>
        {
            var address = RemoteServer.ParseAddress(context.Parse.GetValue(server)!);
            if (context.Parse.GetValue(browser) && context.Parse.GetValue(token) is not null)
            {
                throw CairnException.Invalid("Give --token or --browser, not both.");
            }

            var secret = context.Parse.GetValue(browser) ? await BrowserSignIn.RunAsync(context, address, app.Environment, ct) : context.Parse.GetValue(token) switch
            {
                "-" => (await System.Console.In.ReadLineAsync(ct))?.Trim(),
                { } given => given,
                null => app.Environment(RemoteServer.TokenEnvironmentVariable),
            };
            secret = string.IsNullOrWhiteSpace(secret) ? null : secret;
            using var remote = new RemoteServer(address, secret);
            string version;
            string? user;
            try
            {
                version = await remote.ConnectAsync(ct);
                user = await WhoAsync(remote, ct);
            }
            catch (CairnException e) when (e.Code == ErrorCode.Unauthenticated)
            {
                // Nothing is stored: a profile that cannot sign in would only fail later, further from the mistake.
                throw new CairnException(ErrorCode.Unauthenticated, secret is null
                    ? $"The server at {address} asks for a token: cairn login {address} --token TOKEN ('cairn tokens create' makes one). Nothing was stored."
                    : $"The server at {address} refused the token: {e.Message.Split(" Log in again", 2)[0]} Nothing was stored.", e);
            }

            var profiles = app.Profiles;
            var set = profiles.Load();
            var profileName = context.Parse.GetValue(name) ?? address.Authority;
            var profile = new Profile(profileName, address.ToString(), secret, user);
            profiles.Save(new ProfileSet(profileName, [.. set.Profiles.Where(p => p.Name != profileName), profile]));
            if (context.Json)
            {
                context.Console.WriteJson(profile with { Token = null }, ProfileJson.Default.Profile);
            }
            else
            {
                context.Console.Out.MarkupLineInterpolated(
                    $"Logged in to {address} (Cairn {version}) as {user ?? "nobody in particular (the server asks for no sign-in)"}; profile '{profileName}' in {profiles.FilePath}. Commands now go through this server; 'cairn logout' stops that.");
            }

            return 0;
        }));
        return command;
    }

    // Who the token stands for; a server that asks for no sign-in (on its owner's loopback) has no sessions to ask.
    private static async Task<string?> WhoAsync(RemoteServer remote, CancellationToken cancellationToken)
    {
        try
        {
            var session = await remote.GetAsync("api/session", RemoteJson.Default.JsonElement, cancellationToken);
            return session.GetProperty("user").GetString();
        }
        catch (CairnException e) when (e.Code == ErrorCode.NotFound)
        {
            return null;
        }
    }

    public static Command CreateLogout(CliApp app)
    {
        var name = new Argument<string?>("profile") { Description = "The profile to forget (default: the current one)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("logout", "Forget a profile and its token; commands use the local store again unless another profile is chosen") { name };
        command.SetAction(app.StorelessHandler((context, _) =>
        {
            var profiles = app.Profiles;
            var set = profiles.Load();
            var target = context.Parse.GetValue(name) ?? set.Current
                ?? throw CairnException.NotFound("No profile is in use; 'cairn profiles' lists them.");
            if (set.Find(target) is null)
            {
                throw CairnException.NotFound($"There is no profile named '{target}'; 'cairn profiles' lists them.");
            }

            profiles.Save(new ProfileSet(set.Current == target ? null : set.Current, [.. set.Profiles.Where(p => p.Name != target)]));
            context.Console.Out.MarkupLineInterpolated($"Logged out of '{target}'; its token is forgotten.");
            return Task.FromResult(0);
        }));
        return command;
    }

    public static Command CreateProfiles(CliApp app)
    {
        var command = new Command("profiles", "List the servers you logged in to, and which one commands use (tokens are never shown)");
        command.SetAction(app.StorelessHandler((context, _) =>
        {
            var set = app.Profiles.Load();
            if (context.Json)
            {
                context.Console.WriteJson(set with { Profiles = [.. set.Profiles.Select(p => p with { Token = null })] }, ProfileJson.Default.ProfileSet);
                return Task.FromResult(0);
            }

            if (set.Profiles.Count == 0)
            {
                context.Console.Out.MarkupLine("No profiles: commands use the local store. Log in to a server with: cairn login URL --token TOKEN");
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("", "profile", "server", "user", "token");
            foreach (var profile in set.Profiles)
            {
                table.AddRow(profile.Name == set.Current ? "*" : "", Markup.Escape(profile.Name), Markup.Escape(profile.Server), Markup.Escape(profile.User ?? ""),
                    profile.Token is null ? "none" : "kept");
            }

            context.Console.Out.Write(table);
            return Task.FromResult(0);
        }));
        return command;
    }
}
