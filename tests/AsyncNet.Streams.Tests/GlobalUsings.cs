global using AsyncNet.Streams.Tests.Support;
