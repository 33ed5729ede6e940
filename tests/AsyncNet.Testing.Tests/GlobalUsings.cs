global using AsyncNet.Testing.Tests.Support;
