using Cairn.Adapters.CompiledEngine;
using Cairn.Adapters.FileSystem;
using Cairn.Adapters.MLNet;
using Cairn.Adapters.OnnxRuntime;
using Cairn.Adapters.Parquet;
using Cairn.Adapters.PostgreSql;
using Cairn.Adapters.S3;
using Cairn.Adapters.Sql;
using Cairn.Adapters.Sqlite;
using Cairn.Adapters.Webhooks;
using Cairn.Application;
using Cairn.Application.Identity;
using Cairn.Application.Serving;
using Cairn.Scheduling;
using Cairn.Core.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cairn.Cli;

/// <summary>The composition root: the metadata store (embedded SQLite, or PostgreSQL in team mode), the artifact store (local files, or an S3-compatible bucket), ML.NET, ONNX Runtime and the application services.</summary>
internal static class Composition
{
    // One client for every webhook: connections are pooled and renewed, so DNS changes are followed.
    private static readonly HttpClient Webhooks = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });

    public static IServiceCollection AddCairn(this IServiceCollection services, CairnHome home, Actor actor)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(actor);
        services.TryAddSingleton<SqlMetadataStore>(sp =>
        {
            var time = sp.GetRequiredService<TimeProvider>();
            return home.Store is { } store
                ? PostgreSqlMetadataStore.OpenAsync(store, time, CancellationToken.None).GetAwaiter().GetResult()
                : SqliteMetadataStore.OpenAsync(home.MetadataDatabase, time, CancellationToken.None).GetAwaiter().GetResult();
        });
        services.TryAddSingleton<IArtifactStore>(_ => home.S3Artifacts is { } s3
            ? new S3ArtifactStore(s3, home.Spool, home.S3Credentials)
            : new FileSystemArtifactStore(home.Artifacts));
        services.TryAddSingleton<IFileHashCache>(_ => SqliteFileHashCache.Open(home.FileHashCache));
        services.TryAddSingleton<IModelTrainer, MLNetTrainer>();
        services.TryAddSingleton<IModelRuntimeFactory, OnnxModelRuntimeFactory>();
        services.TryAddSingleton<IMLNetRuntimeFactory, MLNetModelRuntimeFactory>();
        services.TryAddSingleton<IModelCompiler, CompiledModelCompiler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITreeModelConverter, XGBoostConverter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITreeModelConverter, LightGbmConverter>());
        services.TryAddSingleton<IParquetFiles, ParquetFiles>();
        services.TryAddSingleton<DatasetService>();
        services.TryAddSingleton<DatasetAnalysis>();
        services.TryAddSingleton<PipelineRunner>();
        services.TryAddSingleton<TrainingService>();
        services.TryAddSingleton<EvaluationService>();
        services.TryAddSingleton<ModelImporter>();
        services.TryAddSingleton<SweepService>();
        services.TryAddSingleton<BatchScoring>();
        services.TryAddSingleton<IStepHost>(_ => new ChildProcessStepHost(home));
        services.TryAddSingleton<RunService>();
        services.TryAddSingleton<ExperimentService>();
        services.TryAddSingleton<ModelRegistry>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<RunArtifacts>();
        services.TryAddSingleton<ModelServing>();
        services.TryAddSingleton<DeploymentService>();
        services.TryAddSingleton<ModelLoader>();
        // One SQL store implements every metadata port; each service asks only for the aggregates it touches.
        services.TryAddSingleton<IDatasetStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<ITrackingStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<IRegistryStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<IDeploymentStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<IAuditStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<IMonitoringStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<IBlobReferences>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<IIdentityStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        if (home.Store is not null)
        {
            // Team mode: servers hear of changes through PostgreSQL's NOTIFY; the embedded store has no feed, so they poll.
            services.TryAddSingleton<IChangeFeed>(sp => (PostgreSqlMetadataStore)sp.GetRequiredService<SqlMetadataStore>());
        }

        services.TryAddSingleton<IdentityService>();
        services.TryAddSingleton<Authenticator>();
        services.TryAddSingleton<IBlobInventory>(sp => (IBlobInventory)sp.GetRequiredService<IArtifactStore>());
        services.TryAddSingleton<BlobCollector>();
        services.TryAddSingleton<MonitorService>();
        services.TryAddSingleton<LineageService>();
        services.TryAddSingleton(AlertDeliveryOptions.Default);
        services.TryAddSingleton<AlertDispatcher>();
        services.TryAddSingleton<ICronCalendar, QuartzCronCalendar>();
        services.TryAddSingleton(sp => new QuartzScheduleStore(JobStoreOf(home), sp));
        services.TryAddSingleton<IScheduleStore>(sp => sp.GetRequiredService<QuartzScheduleStore>());
        services.TryAddSingleton<IJobQueue>(sp => sp.GetRequiredService<QuartzScheduleStore>());
        services.TryAddSingleton<IJobStore>(sp => sp.GetRequiredService<SqlMetadataStore>());
        services.TryAddSingleton<JobService>();
        services.TryAddSingleton<PipelineSchedules>();
        services.TryAddSingleton<PolicyRunner>();
        services.TryAddSingleton<INotifier>(sp => new WebhookNotifier(Webhooks, Environment.GetEnvironmentVariable, sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>Where pipeline schedules live: team mode keeps them in the shared PostgreSQL database, where every worker sees them; else a file in the home.</summary>
    public static JobStore JobStoreOf(CairnHome home) => home.Store is { } shared
        ? JobStore.PostgreSql(PostgreSqlConnections.ToConnectionString(shared))
        : JobStore.Sqlite(home.SchedulerDatabase);
}
