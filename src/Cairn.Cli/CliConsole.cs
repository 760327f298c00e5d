using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace Cairn.Cli;

/// <summary>All command output goes through here: rich text and tables for people, raw JSON for machines, errors to stderr.</summary>
internal sealed class CliConsole(IAnsiConsole output, TextWriter rawOutput, TextWriter error)
{
    /// <summary>The console for tables, markup and progress.</summary>
    public IAnsiConsole Out { get; } = output;

    /// <summary>Standard output without Spectre's formatting, for help text and JSON.</summary>
    public TextWriter RawOut { get; } = rawOutput;

    /// <summary>The process's standard error.</summary>
    public TextWriter Error { get; } = error;

    public static CliConsole CreateSystem()
    {
        // Piped output has no terminal width; Spectre would wrap at 80 columns, so give tables room instead.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Console.Profile.Width = 160;
        }

        return new(AnsiConsole.Console, Console.Out, Console.Error);
    }

    /// <summary>A console writing plain text to <paramref name="output"/>, as tests and pipes see it.</summary>
    public static CliConsole CreatePlain(TextWriter output, TextWriter error)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 160;
        return new CliConsole(console, output, error);
    }

    /// <summary>Writes JSON unwrapped (Spectre would wrap long lines).</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        RawOut.WriteLine(JsonSerializer.Serialize(value, typeInfo));
        RawOut.Flush();
    }

    /// <summary>
    /// Writes an error to stderr: <c>error: MESSAGE</c> for people or, when <paramref name="jsonCode"/> is given (--json),
    /// one JSON object <c>{"error": MESSAGE, "code": CODE}</c> with the same codes as the HTTP API's errors.
    /// </summary>
    public void WriteError(string message, Core.ErrorCode? jsonCode = null)
    {
        if (jsonCode is { } code)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                writer.WriteString("error", message);
                writer.WriteString("code", Core.ErrorCodes.Name(code));
                writer.WriteEndObject();
            }

            Error.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            Error.WriteLine($"error: {message}");
        }

        Error.Flush();
    }
}
