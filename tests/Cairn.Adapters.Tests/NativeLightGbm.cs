using System.Runtime.InteropServices;

namespace Cairn.Adapters.Tests;

/// <summary>
/// LightGBM itself, through its C API (the lib_lightgbm that ML.NET's LightGBM trainer ships): trains a booster on a
/// float matrix, saves it as LightGBM's text model and predicts with it, so the importer is checked against the library.
/// </summary>
internal static partial class NativeLightGbm
{
    private const string Library = "lib_lightgbm";
    private const int Float32 = 0;

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_DatasetCreateFromMat(float[] data, int dataType, int rows, int columns, int rowMajor, string parameters, IntPtr reference, out IntPtr dataset);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_DatasetSetField(IntPtr dataset, string field, float[] data, int count, int type);

    [LibraryImport(Library)]
    private static partial int LGBM_DatasetFree(IntPtr dataset);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_BoosterCreate(IntPtr dataset, string parameters, out IntPtr booster);

    [LibraryImport(Library)]
    private static partial int LGBM_BoosterUpdateOneIter(IntPtr booster, out int finished);

    [LibraryImport(Library)]
    private static partial int LGBM_BoosterSaveModelToString(IntPtr booster, int start, int iterations, int importance, long bufferLength, out long length, byte[] buffer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LGBM_BoosterPredictForMat(IntPtr booster, float[] data, int dataType, int rows, int columns, int rowMajor, int predictType,
        int start, int iterations, string parameters, out long length, double[] result);

    [LibraryImport(Library)]
    private static partial int LGBM_BoosterFree(IntPtr booster);

    /// <summary>Trains for <paramref name="iterations"/> rounds; returns the model as text and its predictions for the training rows (one per row and output).</summary>
    public static (byte[] Model, double[] Predictions) TrainAndPredict(float[] rowMajor, int rows, int columns, float[] labels, string parameters, int iterations, int outputs)
    {
        Check(LGBM_DatasetCreateFromMat(rowMajor, Float32, rows, columns, 1, parameters, IntPtr.Zero, out var dataset));
        try
        {
            Check(LGBM_DatasetSetField(dataset, "label", labels, rows, Float32));
            Check(LGBM_BoosterCreate(dataset, parameters, out var booster));
            try
            {
                for (var i = 0; i < iterations; i++)
                {
                    Check(LGBM_BoosterUpdateOneIter(booster, out _));
                }

                var buffer = new byte[16 << 20];
                Check(LGBM_BoosterSaveModelToString(booster, 0, -1, 0, buffer.Length, out var length, buffer));
                var predictions = new double[rows * outputs];
                Check(LGBM_BoosterPredictForMat(booster, rowMajor, Float32, rows, columns, 1, 0, 0, -1, "", out _, predictions));
                return (buffer.AsSpan(0, (int)length - 1).ToArray(), predictions);
            }
            finally
            {
                LGBM_BoosterFree(booster);
            }
        }
        finally
        {
            LGBM_DatasetFree(dataset);
        }
    }

    private static void Check(int status)
    {
        if (status != 0)
        {
            throw new InvalidOperationException($"LightGBM failed with status {status}.");
        }
    }
}
