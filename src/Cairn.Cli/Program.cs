using Cairn.Cli;

return await CliApp.RunAsync(args, CliConsole.CreateSystem(), Environment.GetEnvironmentVariable, Environment.CurrentDirectory, CancellationToken.None);
