"""interop: exchange with other systems.

edXML packages and status messages (QCVN 102:2016), the national-axis client, a local axis
simulator, and the outbox/inbox that moves packages. May import docflow, never app.
"""
