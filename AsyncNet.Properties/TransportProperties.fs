namespace AsyncNet.Properties

// Properties of transports: writes, partial sends and reader pauses (issue 3) go here.
