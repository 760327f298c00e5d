using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Cairn.Core;

/// <summary>
/// The one reader of Cairn's YAML documents (training, sweep and monitor specs, pipelines, contracts): snake_case keys,
/// bounded size and nesting, and errors that name the document, the line and, for a misspelt key, the keys allowed there.
/// </summary>
public static partial class SpecYaml
{
    /// <summary>The longest document accepted, in characters.</summary>
    public const int MaxLength = 4 * 1024 * 1024;

    /// <summary>The deepest nesting of mappings and sequences accepted; reading recurses once per level, so this bounds its stack.</summary>
    public const int MaxDepth = 64;

    private static readonly IDeserializer Deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();

    /// <summary>Reads <paramref name="yaml"/> as <typeparamref name="T"/>; an empty document is a default one.</summary>
    /// <param name="yaml">The document's text.</param>
    /// <param name="what">What the document is, as errors name it: "the training spec".</param>
    /// <param name="source">The file it came from, when there is one, so errors name it.</param>
    public static T Read<T>(string yaml, string what, string? source = null)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(yaml);
        CheckBounds(yaml, what, source);
        try
        {
            return Deserializer.Deserialize<T?>(yaml) ?? new T();
        }
        catch (YamlException e)
        {
            throw Error(e, typeof(T), what, source);
        }
    }

    /// <summary>Loads <paramref name="yaml"/> as a node tree, for documents whose shape depends on their content.</summary>
    public static YamlNode? Load(string yaml, string what, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        CheckBounds(yaml, what, source);
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        }
        catch (YamlException e)
        {
            throw Error(e, typeof(object), what, source);
        }
    }

    /// <summary>Reads a node of a loaded document as <typeparamref name="T"/>.</summary>
    public static T Read<T>(YamlNode node, string what, string? source = null)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(node);
        // Lines in errors refer to the node's own text; its start line is added back so they match the file.
        var text = new SerializerBuilder().Build().Serialize(node);
        try
        {
            return Deserializer.Deserialize<T?>(text) ?? new T();
        }
        catch (YamlException e)
        {
            throw Error(e, typeof(T), what, source, lineOffset: (int)node.Start.Line - 1);
        }
    }

    // Walks the events without building anything, so a document nested too deep is refused before any recursion.
    private static void CheckBounds(string yaml, string what, string? source)
    {
        if (yaml.Length > MaxLength)
        {
            throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                $"{Capitalized(what)}{Named(source)} is {yaml.Length:N0} characters long; the limit is {MaxLength:N0}."));
        }

        try
        {
            var parser = new Parser(new StringReader(yaml));
            var depth = 0;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart when ++depth > MaxDepth:
                        throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture,
                            $"{Capitalized(what)}{Named(source)} nests deeper than the limit of {MaxDepth} levels at line {parser.Current.Start.Line}."));
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            throw Error(e, typeof(object), what, source);
        }
    }

    private static CairnException Error(YamlException e, Type root, string what, string? source, int lineOffset = 0)
    {
        var at = string.Create(CultureInfo.InvariantCulture, $"line {e.Start.Line + lineOffset}, column {e.Start.Column}");
        var reason = (e.InnerException ?? e).Message;
        if (UnknownProperty().Match(reason) is { Success: true } unknown)
        {
            var key = UnderscoredNamingConvention.Instance.Apply(unknown.Groups["key"].Value);
            var allowed = FindType(root, unknown.Groups["type"].Value) is { } type ? KeysOf(type) : [];
            var suggestion = Suggestions.Nearest(key, allowed) is { } near ? $" Did you mean '{near}'?" : "";
            return CairnException.Invalid($"{Capitalized(what)}{Named(source)} has an unknown key '{key}' at {at}.{suggestion}" +
                (allowed.Count > 0 ? $" The keys allowed there are: {string.Join(", ", allowed)}." : ""));
        }

        // The deserializer's own words for a value of the wrong type name .NET types; say it in the document's terms.
        if (reason.Contains("Exception during deserialization", StringComparison.Ordinal) && e.InnerException is { } inner)
        {
            reason = inner.Message;
        }

        var kind = e is SyntaxErrorException or SemanticErrorException ? "not valid YAML" : "not valid";
        return CairnException.Invalid($"{Capitalized(what)}{Named(source)} is {kind} at {at}: {Plain(reason)}");
    }

    // Type names such as System.Int32 mean nothing to someone writing YAML.
    private static string Plain(string reason) => DotNetType().Replace(reason, m => m.Groups["name"].Value switch
    {
        "Int32" or "Int64" => "a whole number",
        "Double" or "Single" => "a number",
        "Boolean" => "true or false",
        "String" => "text",
        _ => "a value of another shape",
    });

    private static string Named(string? source) => source is null ? "" : $" '{source}'";

    private static string Capitalized(string what) => what.Length == 0 ? what : char.ToUpperInvariant(what[0]) + what[1..];

    private static Type? FindType(Type root, string fullName)
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([root]);
        while (pending.TryPop(out var type))
        {
            if (!seen.Add(type))
            {
                continue;
            }

            if (type.FullName?.Replace('+', '.') == fullName.Replace('+', '.'))
            {
                return type;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var candidate = property.PropertyType;
                foreach (var nested in candidate.IsGenericType ? candidate.GetGenericArguments() : [candidate])
                {
                    if (nested.Assembly == root.Assembly || nested.IsGenericType)
                    {
                        pending.Push(nested);
                    }
                }
            }
        }

        return null;
    }

    private static List<string> KeysOf(Type type) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .Select(p => p.GetCustomAttribute<YamlMemberAttribute>()?.Alias ?? UnderscoredNamingConvention.Instance.Apply(p.Name))];

    [GeneratedRegex("Property '(?<key>[^']*)' not found on type '(?<type>[^']*)'")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex(@"'?System\.(?<name>\w+)'?")]
    private static partial Regex DotNetType();
}
