using Cairn.Core;
using Cairn.Core.Data;

namespace Cairn.Adapters.Tests;

internal static class TestData
{
    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "data", file);

    public static DatasetVersion Describe(string file)
    {
        using var reader = CsvReader.Open(File.OpenRead(PathOf(file)));
        var (schema, rows) = SchemaInference.Infer(reader);
        return new DatasetVersion(Path.GetFileNameWithoutExtension(file), 1, ContentHash.Of([]), 0, rows, file, schema, DateTimeOffset.UnixEpoch);
    }

    public static Table Load(string file, TableSchema schema)
    {
        using var reader = CsvReader.Open(File.OpenRead(PathOf(file)));
        return Table.Load(reader, schema);
    }
}
