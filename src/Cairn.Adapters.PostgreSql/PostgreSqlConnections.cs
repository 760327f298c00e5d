using Cairn.Core;
using Npgsql;

namespace Cairn.Adapters.PostgreSql;

/// <summary>Reads where a PostgreSQL store is: a <c>postgresql://</c> (or <c>postgres://</c>) URI, or an Npgsql connection string.</summary>
public static class PostgreSqlConnections
{
    /// <summary>Whether <paramref name="store"/> names a PostgreSQL store rather than a local one.</summary>
    public static bool IsPostgreSql(string? store) =>
        store is not null && (store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) ||
                              store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
                              store.Contains("Host=", StringComparison.OrdinalIgnoreCase));

    /// <summary>The Npgsql connection string for a URI or connection string; a malformed one is an error naming what is wrong.</summary>
    public static string ToConnectionString(string store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!store.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(store).ConnectionString;
            }
            catch (ArgumentException e)
            {
                throw CairnException.Invalid($"The PostgreSQL connection string is not valid: {e.Message}");
            }
        }

        if (!Uri.TryCreate(store, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgresql" or "postgres") || string.IsNullOrEmpty(uri.Host))
        {
            throw CairnException.Invalid("The PostgreSQL store must look like postgresql://user:password@host:port/database.");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } database ? database : "postgres",
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (Uri.UnescapeDataString(k), Uri.UnescapeDataString(v)) : (pair, "");
            try
            {
                builder[key == "sslmode" ? "SSL Mode" : key] = value;
            }
            catch (ArgumentException)
            {
                throw CairnException.Invalid($"The PostgreSQL store's option '{key}' is not a connection setting Npgsql knows.");
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>The store's address for messages and logs: host, port and database, never the password.</summary>
    public static string Describe(string store)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ToConnectionString(store));
            return $"{builder.Host}:{builder.Port}/{builder.Database}";
        }
        catch (CairnException)
        {
            return "(an unreadable address)";
        }
    }
}
