global using MlPipeline.TestSupport;
global using NUnit.Framework;
